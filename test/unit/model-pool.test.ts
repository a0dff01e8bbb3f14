import {
  assignFreeSlots,
  backlogSeconds,
  instancesForLoad,
  needsAnotherInstance,
  planPoolRound,
  planPoolRoundWithDrains,
  type PoolInstance,
} from '../../domain/model-pool';

const now = 100_000;
const settings = { minInstances: 0, maxInstances: 2, keepWarmSeconds: 10, maxConcurrency: 1 };
const instance = (
  instanceId: string,
  state: PoolInstance['state'],
  idleSince: number | null = null,
  leases = 0,
): PoolInstance => ({
  instanceId,
  state,
  leases,
  idleSince,
});
const busy = (instanceId: string, leases = 1) => instance(instanceId, 'READY', null, leases);
const waiter = (requestId: string) => ({ requestId, workflowId: `request-${requestId}` });

describe('which waiting requests get which free slots', () => {
  it('first come, first served, the most recently used instance first', () => {
    const assigned = assignFreeSlots(
      [instance('old', 'READY', now - 5_000), instance('recent', 'READY', now - 1_000)],
      [waiter('a'), waiter('b'), waiter('c')],
      1,
    );
    expect(assigned).toEqual([
      { instanceId: 'recent', waiter: waiter('a') },
      { instanceId: 'old', waiter: waiter('b') },
    ]);
  });

  it('fills an instance up to max_concurrency, the busiest first, before using another', () => {
    const assigned = assignFreeSlots(
      [instance('idle', 'READY', now - 1_000), busy('loaded', 2)],
      [waiter('a'), waiter('b'), waiter('c')],
      4,
    );
    expect(assigned.map((a) => [a.instanceId, a.waiter.requestId])).toEqual([
      ['loaded', 'a'],
      ['loaded', 'b'],
      ['idle', 'c'],
    ]);
  });

  it('never hands out a slot of an instance that is starting, unhealthy or stopping', () => {
    const others = [instance('s', 'STARTING'), instance('u', 'UNHEALTHY', now), instance('x', 'STOPPING', now)];
    expect(assignFreeSlots(others, [waiter('a')], 4)).toEqual([]);
  });
});

describe('when a request that found no slot wakes the pool', () => {
  it('only when the waiting outnumber the starting slots and another instance is allowed', () => {
    expect(needsAnotherInstance([], 1, settings)).toBe(true);
    expect(needsAnotherInstance([instance('s', 'STARTING')], 1, settings)).toBe(false);
    expect(needsAnotherInstance([instance('s', 'STARTING')], 2, settings)).toBe(true);
    expect(needsAnotherInstance([busy('x'), busy('y')], 5, settings)).toBe(false);
    expect(needsAnotherInstance([instance('s', 'STARTING')], 4, { ...settings, maxConcurrency: 4 })).toBe(false);
    // An unhealthy instance is on its way out: it does not count toward max.
    expect(needsAnotherInstance([busy('x'), instance('u', 'UNHEALTHY')], 1, settings)).toBe(true);
  });
});

describe('one round of the pool', () => {
  it('starts instances for waiting requests, up to max, counting the slots of those already starting', () => {
    expect(planPoolRound([], 3, settings, now).start).toBe(2);
    expect(planPoolRound([instance('s', 'STARTING')], 2, settings, now).start).toBe(1);
    expect(planPoolRound([busy('x'), busy('y')], 1, settings, now).start).toBe(0);
    expect(planPoolRound([], 5, { ...settings, maxConcurrency: 4 }, now).start).toBe(2);
    expect(planPoolRound([instance('s', 'STARTING')], 4, { ...settings, maxConcurrency: 4 }, now).start).toBe(0);
  });

  it('starts what the measured load needs once a line forms (Little’s law), not one per waiter', () => {
    const wide = { ...settings, maxInstances: 8 };
    // 10 a second × 0.5 s = 5 slots busy, 3 waiting × 0.5 s / 3 s = 0.5 more; at 80 % of 1 slot each, 7.
    const load = { arrivalsPerSecond: 10, serviceSeconds: 0.5 };
    expect(backlogSeconds).toBe(3);
    expect(instancesForLoad(load, 3, wide)).toBe(7);
    expect(instancesForLoad(load, 30, wide)).toBe(8); // within max_instances
    expect(instancesForLoad(load, 3, settings)).toBe(2);
    expect(instancesForLoad({ arrivalsPerSecond: 0.1, serviceSeconds: 0.01 }, 1, wide)).toBe(1); // at least one
    expect(instancesForLoad({ arrivalsPerSecond: 10, serviceSeconds: null }, 10, wide)).toBeNull(); // nothing measured
    expect(planPoolRound([busy('x')], 3, wide, now, load).start).toBe(6);
    expect(planPoolRound([busy('x'), instance('s', 'STARTING')], 3, wide, now, load).start).toBe(5);
    // A burst of fast requests: one instance works it off, where a slot per waiter started eight.
    const fast = { arrivalsPerSecond: 2, serviceSeconds: 0.05 };
    expect(planPoolRound([], 20, wide, now, fast).start).toBe(1);
    expect(planPoolRound([], 20, wide, now).start).toBe(8);
    // No line, no start: a quiet model still scales to zero whatever it served lately.
    expect(planPoolRound([busy('x')], 0, wide, now, load).start).toBe(0);
    expect(planPoolRound([], 0, wide, now, load).start).toBe(0);
  });

  it('keeps min_instances warm, and starts them with nobody waiting', () => {
    expect(planPoolRound([], 0, { ...settings, minInstances: 1 }, now).start).toBe(1);
    expect(planPoolRound([instance('i', 'READY', now - 60_000)], 0, { ...settings, minInstances: 1 }, now)).toEqual({
      start: 0,
      stop: [],
      wakeAt: null,
    });
  });

  it('stops instances idle past keep-warm (scale to zero) and looks again at the next possible expiry', () => {
    const round = planPoolRound(
      [instance('expired', 'READY', now - 10_000), instance('fresh', 'READY', now - 4_000)],
      0,
      settings,
      now,
    );
    expect(round.stop).toEqual([{ instanceId: 'expired', reason: 'KEEP_WARM_EXPIRED' }]);
    expect(round.wakeAt).toBe(now + 6_000);
  });

  it('looks again at a busy instance no sooner than keep-warm from now: it cannot expire before', () => {
    expect(planPoolRound([busy('busy')], 0, settings, now)).toEqual({ start: 0, stop: [], wakeAt: now + 10_000 });
    expect(planPoolRound([], 0, settings, now).wakeAt).toBeNull();
  });

  it('with keep-warm 0 (a deleted model drains so) looks again at a busy instance after a second, not in a tight loop', () => {
    expect(planPoolRound([busy('busy')], 0, { ...settings, keepWarmSeconds: 0 }, now).wakeAt).toBe(now + 1_000);
  });

  it('stops unhealthy instances and never counts them, or stopping ones, as capacity', () => {
    const round = planPoolRound(
      [instance('sick', 'UNHEALTHY'), instance('going', 'STOPPING'), busy('busy')],
      1,
      settings,
      now,
    );
    expect(round.stop).toEqual([{ instanceId: 'sick', reason: 'UNHEALTHY' }]);
    expect(round.start).toBe(1);
  });
});

describe('planPoolRoundWithDrains: replacing an instance interrupts no request', () => {
  it('a busy instance asked to go turns DRAINING, gets its replacement now, and keeps its requests', () => {
    const round = planPoolRoundWithDrains([busy('a')], 0, settings, now, ['a']);
    expect(round).toMatchObject({ drain: ['a'], start: 1, stop: [] });
  });

  it('an idle one is stopped at once, its replacement started in the same round', () => {
    const round = planPoolRoundWithDrains([instance('a', 'READY', now - 1_000)], 0, settings, now, ['a']);
    expect(round).toMatchObject({ drain: ['a'], start: 1, stop: [{ instanceId: 'a', reason: 'REPLACED' }] });
  });

  it('a draining instance goes once its last request is done, with no second replacement', () => {
    expect(planPoolRound([instance('a', 'DRAINING', null, 1), busy('b')], 0, settings, now).stop).toEqual([]);
    const round = planPoolRound([instance('a', 'DRAINING', null, 0), instance('b', 'READY', now)], 0, settings, now);
    expect(round).toMatchObject({ start: 0, stop: [{ instanceId: 'a', reason: 'REPLACED' }] });
  });

  it('only ready instances drain (a starting or stopping one is left as it is), and never past max_instances', () => {
    expect(
      planPoolRoundWithDrains([instance('a', 'STARTING'), instance('b', 'STOPPING')], 0, settings, now, ['a', 'b']),
    ).toMatchObject({
      drain: [],
      start: 0,
    });
    // Two live, max two: the drained one no longer counts, so its replacement fits; no more than that.
    expect(planPoolRoundWithDrains([busy('a'), busy('b')], 3, settings, now, ['a'])).toMatchObject({
      drain: ['a'],
      start: 1,
    });
  });

  it('a draining instance takes no new request', () => {
    expect(assignFreeSlots([instance('a', 'DRAINING', null, 0)], [waiter('r1')], 1)).toEqual([]);
  });
});
