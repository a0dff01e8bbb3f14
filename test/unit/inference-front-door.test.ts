import { failureStatus } from '../../domain/inference-front-door';

describe('the status the OIP front door answers for a request that ended without a result', () => {
  it.each([
    ['MODEL_REJECTED_INPUT', 400],
    ['MODEL_ERROR', 502],
    ['MODEL_NOT_SERVED', 502],
    // found by the fault suite's fuzzing: a model registered with a command that does not exist
    ['INSTANCE_START_FAILED', 502],
    ['REQUEST_TIMEOUT', 504],
    ['EXPIRED', 504],
    ['DEADLINE_EXCEEDED', 504],
    ['INSTANCE_STARTUP_TIMEOUT', 503],
    ['MODEL_POOL_FAILING', 503],
    ['FAILED_BY_ADMIN', 500],
  ])('%s: %i', (code, status) => {
    expect(failureStatus({ code, message: 'm' })).toBe(status);
  });
});
