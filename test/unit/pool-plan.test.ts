import { enqueueWaiter, planPool, type PoolInstance, type PoolWaiter } from '../../domain/pool-plan';

const now = 100_000;
const settings = { minInstances: 0, maxInstances: 2, keepWarmSeconds: 10, maxConcurrency: 1 };
const instance = (instanceId: string, state: PoolInstance['state'], idleSince: number | null = null, requestIds: string[] = []): PoolInstance => ({
  instanceId,
  state,
  endpoint: state === 'STARTING' ? null : `http://127.0.0.1/${instanceId}`,
  idleSince,
  requestIds,
});
const busy = (instanceId: string, ...requestIds: string[]) => instance(instanceId, 'READY', null, requestIds.length ? requestIds : ['r']);
const waiter = (requestId: string, requestedAt = 0): PoolWaiter => ({ requestId, workflowId: `request-${requestId}`, requestedAt });

describe('what a model pool does next', () => {
  it('hands idle instances to waiting requests first come, first served, most recently used instance first', () => {
    const { actions } = planPool(
      [instance('old', 'READY', now - 5_000), instance('recent', 'READY', now - 1_000)],
      [waiter('a'), waiter('b'), waiter('c')],
      settings,
      now,
    );
    expect(actions).toEqual([
      { type: 'ASSIGN', instanceId: 'recent', waiter: waiter('a') },
      { type: 'ASSIGN', instanceId: 'old', waiter: waiter('b') },
    ]);
  });

  it('fills an instance up to max_concurrency, the busiest first, before using another', () => {
    const { actions } = planPool(
      [instance('idle', 'READY', now - 1_000), busy('loaded', 'x', 'y')],
      [waiter('a'), waiter('b'), waiter('c')],
      { ...settings, maxConcurrency: 4 },
      now,
    );
    expect(actions).toEqual([
      { type: 'ASSIGN', instanceId: 'loaded', waiter: waiter('a') },
      { type: 'ASSIGN', instanceId: 'loaded', waiter: waiter('b') },
      { type: 'ASSIGN', instanceId: 'idle', waiter: waiter('c') },
    ]);
  });

  it('starts instances for waiting requests, up to max, counting the slots of those already starting', () => {
    expect(planPool([], [waiter('a'), waiter('b'), waiter('c')], settings, now).actions).toEqual([{ type: 'START', count: 2 }]);
    expect(planPool([instance('s', 'STARTING')], [waiter('a'), waiter('b')], settings, now).actions).toEqual([{ type: 'START', count: 1 }]);
    expect(planPool([busy('x'), busy('y')], [waiter('a')], settings, now).actions).toEqual([]);
    const five = ['a', 'b', 'c', 'd', 'e'].map((id) => waiter(id));
    expect(planPool([], five, { ...settings, maxConcurrency: 4 }, now).actions).toEqual([{ type: 'START', count: 2 }]);
    expect(planPool([instance('s', 'STARTING')], five.slice(0, 4), { ...settings, maxConcurrency: 4 }, now).actions).toEqual([]);
  });

  it('keeps min_instances warm, and starts them with nobody waiting', () => {
    expect(planPool([], [], { ...settings, minInstances: 1 }, now).actions).toEqual([{ type: 'START', count: 1 }]);
    expect(planPool([instance('i', 'READY', now - 60_000)], [], { ...settings, minInstances: 1 }, now)).toEqual({ actions: [], wakeAt: null });
  });

  it('stops instances idle past keep-warm (scale to zero) and wakes for the next expiry', () => {
    const { actions, wakeAt } = planPool(
      [instance('expired', 'READY', now - 10_000), instance('fresh', 'READY', now - 4_000), busy('busy')],
      [],
      settings,
      now,
    );
    expect(actions).toEqual([{ type: 'STOP', instanceId: 'expired', reason: 'KEEP_WARM_EXPIRED' }]);
    expect(wakeAt).toBe(now + 6_000);
  });

  it('never counts a stopping instance as capacity', () => {
    expect(planPool([instance('going', 'STOPPING'), busy('busy')], [waiter('a')], settings, now).actions).toEqual([
      { type: 'START', count: 1 },
    ]);
  });
});

describe('the waiting queue', () => {
  it('is in submission order whatever order the requests arrive in, each request once', () => {
    const waiting: PoolWaiter[] = [];
    for (const [id, at] of [['c', 30], ['a', 10], ['d', 40], ['b', 20], ['a', 10]] as const) enqueueWaiter(waiting, waiter(id, at));
    expect(waiting.map((w) => w.requestId)).toEqual(['a', 'b', 'c', 'd']);
  });
});
