import {
  decide,
  type AutoscalerSettings,
  type NodeView,
  type PendingPod,
  type Resources,
} from '../../domain/node-autoscaler';
import { parseQuantity } from '../../domain/quantity';

const Gi = 1024 ** 3;
const res = (cpu: number, memoryGi: number, gpu = 0, pods = 1): Resources => ({
  cpu,
  memory: memoryGi * Gi,
  gpu,
  pods,
});
const settings: AutoscalerSettings = {
  nodeTypes: [
    { name: 'cpu-small', capacity: res(4, 16, 0, 110), hourlyPrice: 0.17, maxNodes: 10 },
    { name: 'cpu-large', capacity: res(16, 64, 0, 110), hourlyPrice: 0.68, maxNodes: 10 },
    { name: 'gpu-a10', capacity: res(8, 32, 1, 110), hourlyPrice: 1.01, maxNodes: 4 },
  ],
  maxNodesTotal: 20,
  batchWindowMs: 200,
  batchMaxMs: 2_000,
  provisioningTimeoutMs: 60_000,
  minNodeLifetimeMs: 600_000,
  scaleDownDelayMs: 120_000,
};
const now = 10_000_000;
const pod = (name: string, requests: Resources, since = now - 1_000): PendingPod => ({
  name,
  requests,
  unschedulableSince: since,
});
const node = (name: string, overrides: Partial<NodeView> = {}): NodeView => ({
  name,
  type: 'cpu-small',
  managed: true,
  ready: true,
  cordoned: false,
  createdAt: now - 3_600_000,
  allocatable: res(4, 16, 0, 110),
  requested: res(0, 0, 0, 0),
  modelPods: 0,
  otherPods: 0,
  ...overrides,
});
/** Pending pods count as seen a second ago unless a test says otherwise: past the batch window. */
const run = (
  nodes: NodeView[],
  pending: PendingPod[],
  emptySince: Record<string, number> = {},
  overrides: Partial<AutoscalerSettings> = {},
) =>
  decide(
    { now, nodes, pending },
    { ...settings, ...overrides },
    { emptySince, pendingSince: Object.fromEntries(pending.map((p) => [p.name, now - 1_000])) },
  );
const busy = (name: string, overrides: Partial<NodeView> = {}) =>
  node(name, { modelPods: 1, requested: res(3.5, 4, 0, 1), ...overrides });

describe('node autoscaler: decide', () => {
  it('a pending GPU pod and no GPU node → add 1 GPU node', () => {
    const plan = run([busy('small-1')], [pod('gpu-pod', res(1, 4, 1))]);
    expect(plan.actions).toEqual([{ type: 'ADD_NODES', nodeType: 'gpu-a10', count: 1, forPods: ['gpu-pod'] }]);
  });

  it('10 small pods → the fewest nodes: one large node, not ten small ones', () => {
    const pods = Array.from({ length: 10 }, (_, i) => pod(`p${i}`, res(1.5, 2)));
    const plan = run([], pods);
    expect(plan.actions).toEqual([
      { type: 'ADD_NODES', nodeType: 'cpu-large', count: 1, forPods: expect.arrayContaining(pods.map((p) => p.name)) },
    ]);
  });

  it('CPU pods never fill the spare room of new GPU nodes (GPU nodes are tainted)', () => {
    const plan = run([], [pod('gpu-pod', res(2, 8, 1)), pod('cpu-pod', res(1, 2))]);
    expect(plan.actions).toEqual([
      { type: 'ADD_NODES', nodeType: 'gpu-a10', count: 1, forPods: ['gpu-pod'] },
      { type: 'ADD_NODES', nodeType: 'cpu-small', count: 1, forPods: ['cpu-pod'] },
    ]);
  });

  it('one small pod → the cheapest node that holds it', () => {
    expect(run([], [pod('p', res(0.5, 1))]).actions).toEqual([
      { type: 'ADD_NODES', nodeType: 'cpu-small', count: 1, forPods: ['p'] },
    ]);
  });

  it('max nodes reached → no action, and the reason says so', () => {
    const full = Array.from({ length: 4 }, (_, i) =>
      busy(`gpu-${i}`, { type: 'gpu-a10', allocatable: res(8, 32, 1, 110), requested: res(1, 4, 1, 1) }),
    );
    const plan = run(full, [pod('gpu-pod', res(1, 4, 1))]);
    expect(plan.actions).toEqual([]);
    expect(plan.reasons).toContainEqual(expect.stringContaining('max nodes reached for gpu-a10 (4)'));
    expect(run([busy('a'), busy('b')], [pod('p', res(1, 1))], {}, { maxNodesTotal: 2 }).reasons).toContainEqual(
      expect.stringContaining('max nodes in total reached (2)'),
    );
  });

  it('a pod no node type can hold → no action, with the reason', () => {
    const plan = run([], [pod('huge', res(64, 8))]);
    expect(plan.actions).toEqual([]);
    expect(plan.reasons).toEqual(['no node type can hold pod huge']);
  });

  it('batches: waits while pods keep arriving, up to the maximum, and says when to look again', () => {
    const settled = { now, nodes: [], pending: [pod('a', res(1, 1)), pod('b', res(1, 1))] };
    // b was first seen 50 ms ago: more may come.
    const waiting = decide(settled, settings, { emptySince: {}, pendingSince: { a: now - 500, b: now - 50 } });
    expect(waiting.actions).toEqual([]);
    expect(waiting.wakeAt).toBe(now + 150);
    // A pod never seen before is remembered from now.
    expect(
      decide({ ...settled, pending: [pod('c', res(1, 1))] }, settings, { emptySince: {} }).memory.pendingSince,
    ).toEqual({ c: now });
    // Quiet for the window: act on all of them together.
    expect(
      decide(settled, settings, { emptySince: {}, pendingSince: { a: now - 500, b: now - 200 } }).actions,
    ).toHaveLength(1);
    // Still arriving, but the first has waited the maximum: act anyway.
    expect(
      decide(settled, settings, { emptySince: {}, pendingSince: { a: now - 2_000, b: now - 10 } }).actions,
    ).toHaveLength(1);
  });

  it('pods that fit on a node still starting add nothing', () => {
    const starting = node('new-1', { ready: false, createdAt: now - 5_000 });
    expect(run([starting], [pod('p', res(1, 1))]).actions).toEqual([]);
  });

  it('a node that never became Ready is removed after the provisioning timeout, and replaced', () => {
    const stuck = node('stuck', { ready: false, createdAt: now - 61_000 });
    const plan = run([stuck], [pod('p', res(1, 1))]);
    expect(plan.actions).toEqual([
      { type: 'REMOVE_NODE', node: 'stuck', why: 'PROVISIONING_TIMEOUT' },
      { type: 'ADD_NODES', nodeType: 'cpu-small', count: 1, forPods: ['p'] },
    ]);
  });

  it('a cordoned node that fits a pending pod is uncordoned instead of adding one', () => {
    const plan = run([node('cordoned', { cordoned: true })], [pod('p', res(1, 1))], { cordoned: now - 500_000 });
    expect(plan.actions).toEqual([{ type: 'UNCORDON', node: 'cordoned' }]);
  });

  it('an empty node younger than the minimum lifetime is kept', () => {
    const young = node('young', { createdAt: now - 60_000 });
    const plan = run([young], [], { young: now - 300_000 });
    expect(plan.actions).toEqual([]);
    expect(plan.wakeAt).toBe(young.createdAt + settings.minNodeLifetimeMs);
  });

  it('an empty node is cordoned only once empty for the scale-down delay, then removed', () => {
    expect(run([node('n')], []).actions).toEqual([]); // empty just now
    expect(run([node('n')], [], { n: now - 60_000 }).actions).toEqual([]);
    expect(run([node('n')], [], { n: now - 120_000 }).actions).toEqual([{ type: 'CORDON', node: 'n' }]);
    expect(run([node('n', { cordoned: true })], [], { n: now - 130_000 }).actions).toEqual([
      { type: 'REMOVE_NODE', node: 'n', why: 'EMPTY' },
    ]);
  });

  it('a node with a running model pod is never removed, however long it has been there', () => {
    const plan = run([busy('busy', { cordoned: true, createdAt: 0 })], [], { busy: 0 });
    expect(plan.actions).toEqual([]);
    expect(plan.memory.emptySince).toEqual({});
  });

  it('nodes it did not add, and nodes with other pods, are left alone', () => {
    expect(run([node('theirs', { managed: false })], [], { theirs: 0 }).actions).toEqual([]);
    expect(run([node('shared', { otherPods: 1 })], [], { shared: 0 }).actions).toEqual([]);
  });

  it('does not scale down while pods are pending', () => {
    const plan = run([node('idle')], [pod('gpu-pod', res(1, 1, 1))], { idle: 0 });
    expect(plan.actions).toEqual([{ type: 'ADD_NODES', nodeType: 'gpu-a10', count: 1, forPods: ['gpu-pod'] }]);
  });
});

describe('Kubernetes quantities', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['16Gi', 16 * 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['110', 110],
  ])('%s → %d', (quantity, expected) => {
    expect(parseQuantity(quantity)).toBeCloseTo(expected, 9);
  });

  it('refuses what is not a quantity', () => {
    expect(() => parseQuantity('lots')).toThrow('not a Kubernetes quantity: lots');
  });
});

describe('node autoscaler: consolidation', () => {
  const rules = { enabled: true, utilisationThreshold: 0.5, maxNodesAtOnce: 1, cooldownMs: 300_000 };
  const on: Partial<AutoscalerSettings> = { consolidation: rules };
  const withPods = (name: string, pods: Array<[string, Resources]>, overrides: Partial<NodeView> = {}): NodeView => {
    const requested = pods.reduce(
      (sum, [, r]) => ({
        cpu: sum.cpu + r.cpu,
        memory: sum.memory + r.memory,
        gpu: sum.gpu + r.gpu,
        pods: sum.pods + 1,
      }),
      res(0, 0, 0, 0),
    );
    return node(name, {
      modelPods: pods.length,
      requested,
      modelPodList: pods.map(([pod, requests]) => ({ name: pod, requests, ready: true })),
      ...overrides,
    });
  };
  // The case from the issue: a cpu-large node added for a big model keeps one small pod; a base node idles.
  const large = (pods: Array<[string, Resources]>, overrides: Partial<NodeView> = {}) =>
    withPods('large-1', pods, { type: 'cpu-large', allocatable: res(16, 64, 0, 110), ...overrides });
  const base = node('base-1', { managed: false });
  const consolidate = (
    nodes: NodeView[],
    memory: { consolidating?: Record<string, number> } = {},
    overrides: Partial<AutoscalerSettings> = on,
  ) => decide({ now, nodes, pending: [] }, { ...settings, ...overrides }, { emptySince: {}, ...memory });

  it.each([
    [
      'a lightly used added node whose pods fit on a cheaper node → consolidated',
      [large([['sentiment-1', res(0.25, 0.25)]]), base],
      [{ type: 'CONSOLIDATE', node: 'large-1', pods: ['sentiment-1'] }],
    ],
    [
      'off (the default, and runs started before it) → nothing',
      [large([['sentiment-1', res(0.25, 0.25)]]), base],
      [],
      {},
    ],
    ['fuller than the threshold → kept', [large([['big-1', res(12, 8)]]), base], []],
    [
      'its pods fit nowhere else → kept',
      [
        large([
          ['mid-1', res(3, 2)],
          ['mid-2', res(3, 2)],
        ]),
        base,
      ],
      [],
    ],
    [
      'the only room is on a node that costs as much or more → kept',
      [
        large([['sentiment-1', res(0.25, 0.25)]]),
        withPods('large-2', [['x', res(1, 1)]], { type: 'cpu-large', allocatable: res(16, 64, 0, 110) }),
      ],
      [],
    ],
    ['a node Podium did not add → never', [large([['sentiment-1', res(0.25, 0.25)]], { managed: false }), base], []],
    [
      'a pod not ready yet (still starting) → not now',
      [
        large([['sentiment-1', res(0.25, 0.25)]], {
          modelPodList: [{ name: 'sentiment-1', requests: res(0.25, 0.25), ready: false }],
        }),
        base,
      ],
      [],
    ],
    [
      'something besides model pods on it → kept',
      [large([['sentiment-1', res(0.25, 0.25)]], { otherPods: 1 }), base],
      [],
    ],
    [
      'younger than its minimum lifetime → kept',
      [large([['sentiment-1', res(0.25, 0.25)]], { createdAt: now - 60_000 }), base],
      [],
    ],
    [
      'a GPU pod only moves to a GPU node',
      [withPods('gpu-2', [['gpu-pod', res(1, 2, 1)]], { type: 'gpu-a10', allocatable: res(8, 32, 1, 110) }), base],
      [],
    ],
  ])('%s', (_, nodes, actions, overrides = on) => {
    expect(consolidate(nodes as NodeView[], {}, overrides as Partial<AutoscalerSettings>).actions).toEqual(actions);
  });

  it('never while pods pend: the node may be what they need', () => {
    const plan = decide(
      { now, nodes: [large([['sentiment-1', res(0.25, 0.25)]]), base], pending: [pod('p', res(0.5, 1))] },
      { ...settings, ...on },
      { emptySince: {}, pendingSince: { p: now - 1_000 } },
    );
    expect(plan.actions.some((a) => a.type === 'CONSOLIDATE')).toBe(false);
  });

  it('one node at a time (the disruption budget), the most expensive first, then a cooldown', () => {
    const small = withPods('small-9', [['echo-1', res(0.25, 0.25)]]);
    const nodes = [small, large([['sentiment-1', res(0.25, 0.25)]]), base];
    const first = consolidate(nodes);
    expect(first.actions).toEqual([{ type: 'CONSOLIDATE', node: 'large-1', pods: ['sentiment-1'] }]);
    expect(first.memory.consolidating).toEqual({ 'large-1': now });
    // large-1 is still being emptied (cordoned, its pod not yet replaced): the budget of one is used.
    const during = consolidate([small, { ...nodes[1]!, cordoned: true }, base], {
      consolidating: first.memory.consolidating,
    });
    expect(during.actions).toEqual([]);
    expect(during.reasons.join(' ')).toMatch(/cooling down/);
  });

  it('a node being emptied is not uncordoned for pending pods that would fit on it', () => {
    const emptying = large([['sentiment-1', res(0.25, 0.25)]], { cordoned: true });
    const plan = decide(
      { now, nodes: [emptying], pending: [pod('p', res(0.5, 1))] },
      { ...settings, ...on },
      { emptySince: {}, pendingSince: { p: now - 1_000 }, consolidating: { 'large-1': now - 10_000 } },
    );
    expect(plan.actions).not.toContainEqual({ type: 'UNCORDON', node: 'large-1' });
  });

  it('once empty, the consolidated node is removed as any cordoned empty node', () => {
    const emptied = node('large-1', { type: 'cpu-large', allocatable: res(16, 64, 0, 110), cordoned: true });
    expect(consolidate([emptied, base], { consolidating: { 'large-1': now - 30_000 } }).actions).toEqual([
      { type: 'REMOVE_NODE', node: 'large-1', why: 'EMPTY' },
    ]);
  });
});
