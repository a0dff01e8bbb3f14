import { deadlineReachable, secondsUntilStart, type LineFacts } from '../../domain/queue-estimate';

const line = (facts: Partial<LineFacts>): LineFacts => ({
  serviceSeconds: 2,
  readySlots: 2,
  busySlots: 2,
  startingSlots: 0,
  maxConcurrency: 1,
  startupSeconds: 5,
  startupTimeoutSeconds: 30,
  ...facts,
});

describe('when a waiting request should start', () => {
  it('is unknown until the model has answered', () => {
    expect(secondsUntilStart(1, line({ serviceSeconds: null }))).toBeNull();
    expect(deadlineReachable(1, 0.1, line({ serviceSeconds: null }))).toEqual({ reachable: true, startSeconds: null });
  });

  it('is now on a free slot', () => {
    expect(secondsUntilStart(1, line({ busySlots: 1 }))).toBe(0);
  });

  it('is a whole service time for each round of busy slots ahead', () => {
    expect(secondsUntilStart(1, line({}))).toBe(2);
    expect(secondsUntilStart(2, line({}))).toBe(2);
    expect(secondsUntilStart(3, line({}))).toBe(4);
    expect(secondsUntilStart(3, line({ busySlots: 1 }))).toBe(2); // one free: two left for two slots
  });

  it('waits for an instance to start when none is ready, by the measured startup or the timeout', () => {
    expect(secondsUntilStart(1, line({ readySlots: 0, busySlots: 0 }))).toBe(5);
    expect(secondsUntilStart(2, line({ readySlots: 0, busySlots: 0 }))).toBe(7);
    expect(secondsUntilStart(2, line({ readySlots: 0, busySlots: 0, startingSlots: 2 }))).toBe(5);
    expect(secondsUntilStart(1, line({ readySlots: 0, busySlots: 0, startupSeconds: null }))).toBe(30);
  });

  it('admits a deadline that leaves time to start and be served', () => {
    expect(deadlineReachable(1, 4, line({}))).toEqual({ reachable: true, startSeconds: 2 });
    expect(deadlineReachable(1, 3.9, line({}))).toEqual({ reachable: false, startSeconds: 2 });
  });
});
