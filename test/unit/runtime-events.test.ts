import { runtimeEventOf, runtimeEventsInOrder } from '../../domain/instances';

describe('runtimeEventOf: a Kubernetes Event as kept with its instance', () => {
  it('keeps what the history page shows, with ISO times', () => {
    const raw = {
      metadata: { uid: 'e-1' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      source: { component: 'kubelet', host: 'n1' },
      count: 4,
      firstTimestamp: new Date('2026-11-28T00:00:00Z'),
      lastTimestamp: new Date('2026-11-28T00:01:00Z'),
    };
    expect(runtimeEventOf(raw)).toEqual({
      uid: 'e-1',
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      source: 'kubelet',
      count: 4,
      firstAt: '2026-11-28T00:00:00.000Z',
      lastAt: '2026-11-28T00:01:00.000Z',
    });
  });

  it('takes an event of the newer API (eventTime, no count) too', () => {
    // As client-node reads the scheduler's: null where the older fields would be.
    expect(
      runtimeEventOf({
        metadata: { uid: 'e-2' },
        reason: 'Scheduled',
        eventTime: '2026-11-28T00:00:00.5Z',
        firstTimestamp: null,
        lastTimestamp: null,
        count: null,
        source: null,
        reportingComponent: 'default-scheduler',
      }),
    ).toMatchObject({
      type: 'Normal',
      count: 1,
      source: 'default-scheduler',
      message: '',
      firstAt: '2026-11-28T00:00:00.500Z',
      lastAt: '2026-11-28T00:00:00.500Z',
    });
  });

  it('is null for what is not an event', () => {
    expect(runtimeEventOf({ reason: 'no uid' })).toBeNull();
    expect(runtimeEventOf({ metadata: { uid: 'e-3' }, reason: 'NoTime' })).toBeNull();
    expect(runtimeEventOf('text')).toBeNull();
  });

  it("puts the scheduler's placing first within its second, though it was stored after the kubelet's pull", () => {
    const kubelet = (uid: string, reason: string, at: string, resourceVersion: string) => ({
      metadata: { uid, resourceVersion },
      reason,
      source: { component: 'kubelet' },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    });
    const raws = [
      kubelet('e-pulled', 'Pulled', '2026-11-28T00:00:01Z', '12'),
      {
        metadata: { uid: 'e-scheduled', resourceVersion: '11' },
        reason: 'Scheduled',
        eventTime: '2026-11-28T00:00:00.900Z',
        reportingComponent: 'default-scheduler',
      },
      kubelet('e-pulling', 'Pulling', '2026-11-28T00:00:00Z', '10'),
    ];
    expect(runtimeEventsInOrder(raws).map((e) => e.reason)).toEqual(['Scheduled', 'Pulling', 'Pulled']);
  });
});
