import { runtimeEventOf } from '../../domain/instances';

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
      uid: 'e-1', type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', source: 'kubelet', count: 4,
      firstAt: '2026-11-28T00:00:00.000Z', lastAt: '2026-11-28T00:01:00.000Z',
    });
  });

  it('takes an event of the newer API (eventTime, no count) too', () => {
    // As client-node reads the scheduler's: null where the older fields would be.
    expect(runtimeEventOf({ metadata: { uid: 'e-2' }, reason: 'Scheduled', eventTime: '2026-11-28T00:00:00.5Z', firstTimestamp: null, lastTimestamp: null, count: null, source: null })).toMatchObject({
      type: 'Normal', count: 1, source: null, message: '', firstAt: '2026-11-28T00:00:00.500Z', lastAt: '2026-11-28T00:00:00.500Z',
    });
  });

  it('is null for what is not an event', () => {
    expect(runtimeEventOf({ reason: 'no uid' })).toBeNull();
    expect(runtimeEventOf({ metadata: { uid: 'e-3' }, reason: 'NoTime' })).toBeNull();
    expect(runtimeEventOf('text')).toBeNull();
  });
});
