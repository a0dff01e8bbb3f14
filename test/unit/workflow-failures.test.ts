import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import { lostWithItsWorker } from '../../workflows/failures';

const activityFailed = (cause: Error) =>
  new ActivityFailure('failed', 'awaitInstanceReady', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);

describe('a start lost with its worker', () => {
  it('is a heartbeat that stopped, or an instance gone with the worker that started it', () => {
    expect(lostWithItsWorker(activityFailed(new TimeoutFailure('no heartbeat', undefined, 'HEARTBEAT')))).toBe(true);
    expect(lostWithItsWorker(activityFailed(ApplicationFailure.nonRetryable('gone', 'INSTANCE_LOST')))).toBe(true);
  });

  it('is not a start the model itself failed, nor a startup timeout', () => {
    expect(
      lostWithItsWorker(activityFailed(ApplicationFailure.nonRetryable('exited (1)', 'INSTANCE_START_FAILED'))),
    ).toBe(false);
    expect(lostWithItsWorker(activityFailed(new TimeoutFailure('too slow', undefined, 'START_TO_CLOSE')))).toBe(false);
  });
});
