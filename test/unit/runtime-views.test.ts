import { mergeRuntimeViews, type LiveInstance, type RuntimeView } from '../../domain/instances';

const pod = (runtimeRef: string): LiveInstance => ({
  runtimeRef,
  instanceId: null,
  modelId: 'echo',
  phase: 'Running',
  ready: true,
  node: 'n1',
  startedAt: null,
  requestId: null,
  waiting: null,
});
const view = (workerId: string, scope: RuntimeView['scope'], observedAt: string, refs: string[]): RuntimeView => ({
  workerId,
  scope,
  observedAt,
  instances: refs.map(pod),
});

describe("mergeRuntimeViews: the live instances from the workers' views", () => {
  it('takes the newest view of a cluster, which every worker sees whole', () => {
    const merged = mergeRuntimeViews([
      view('a', 'cluster', '2026-11-28T00:00:01.000Z', ['echo-1', 'echo-2']),
      view('b', 'cluster', '2026-11-28T00:00:02.000Z', ['echo-1']),
    ]);
    expect(merged).toEqual({ instances: [pod('echo-1')], observedAt: '2026-11-28T00:00:02.000Z' });
  });

  it("joins every worker's own processes, observed as of the oldest view", () => {
    const merged = mergeRuntimeViews([
      view('a', 'process', '2026-11-28T00:00:02.000Z', ['p-1']),
      view('b', 'process', '2026-11-28T00:00:01.000Z', ['p-2']),
    ]);
    expect(merged.instances.map((i) => i.runtimeRef).sort()).toEqual(['p-1', 'p-2']);
    expect(merged.observedAt).toBe('2026-11-28T00:00:01.000Z');
  });

  it('says when no worker has looked', () => {
    expect(mergeRuntimeViews([])).toEqual({ instances: [], observedAt: null });
  });
});
