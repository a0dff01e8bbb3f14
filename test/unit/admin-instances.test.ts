import { filterInstances, joinInstances, type InstanceRecord, type LiveInstance } from '../../domain/instances';

const record = (id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id,
  modelId: 'echo',
  runtime: 'kubernetes',
  runtimeRef: `pod-${id}`,
  status: 'READY',
  startedAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:05.000Z',
  assignedRequestId: null,
  ...overrides,
});
const pod = (instanceId: string | null, overrides: Partial<LiveInstance> = {}): LiveInstance => ({
  runtimeRef: `pod-${instanceId ?? 'stray'}`,
  instanceId,
  modelId: 'echo',
  phase: 'Running',
  ready: true,
  node: 'kwok-cpu-small-1',
  startedAt: '2026-11-20T10:00:01.000Z',
  requestId: null,
  waiting: null,
  ...overrides,
});

describe('joining instance records with what the runtime runs', () => {
  it("gives each record its pod, without repeating the pod's ids", () => {
    const [joined] = joinInstances([record('a')], [pod('a', { requestId: 'r1' })]);
    expect(joined).toMatchObject({ id: 'a', model: 'echo', status: 'READY', assignedRequestId: 'r1' });
    expect(joined!.runtime).toEqual({
      runtimeRef: 'pod-a',
      phase: 'Running',
      ready: true,
      node: 'kwok-cpu-small-1',
      startedAt: '2026-11-20T10:00:01.000Z',
      requestId: 'r1',
      waiting: null,
    });
  });

  it('keeps a record whose pod is gone, with no runtime view', () => {
    expect(joinInstances([record('a')], [])).toEqual([expect.objectContaining({ id: 'a', runtime: null })]);
  });

  it('lists pods no record knows (orphans), with or without an instance id', () => {
    const joined = joinInstances([record('a')], [pod('a'), pod('b'), pod(null)]);
    expect(joined.map((i) => [i.id, i.status])).toEqual([
      ['a', 'READY'],
      ['b', null],
      [null, null],
    ]);
  });

  it("prefers the record's assigned request over the pod's annotation", () => {
    const [joined] = joinInstances([record('a', { assignedRequestId: 'r2' })], [pod('a', { requestId: 'r1' })]);
    expect(joined!.assignedRequestId).toBe('r2');
  });
});

describe('filtering the joined instances', () => {
  const instances = joinInstances(
    [
      record('a', { startedAt: '2026-11-19T23:59:59.000Z' }),
      record('b', { status: 'PENDING', startedAt: '2026-11-20T00:00:00.000Z' }),
    ],
    [pod('a'), pod('b', { phase: 'Pending', ready: false })],
  );

  it('by start date, whole UTC days with `to` included', () => {
    expect(filterInstances(instances, { from: '2026-11-20' }).map((i) => i.id)).toEqual(['b']);
    expect(filterInstances(instances, { to: '2026-11-19' }).map((i) => i.id)).toEqual(['a']);
  });

  it("by status, Podium's or the pod's phase, in any case", () => {
    expect(filterInstances(instances, { status: 'pending' }).map((i) => i.id)).toEqual(['b']);
    expect(filterInstances(instances, { status: 'Running' }).map((i) => i.id)).toEqual(['a']);
  });
});
