/**
 * Models that may take longer than this are called from a regular activity (heartbeating, so a
 * cancel reaches it at once); quicker ones from a local activity, which a cancel reaches at the
 * workflow task's next heartbeat (80 % of the request workflow's task timeout, api/request-workflows).
 */
export const localInferenceLimitSeconds = 60;

/**
 * How long the inference's steps around the model (reading the input, storing the answer) may
 * wait for a database that does not answer, beyond the model's own timeout, which the activity
 * enforces on the model call alone.
 */
export const databasePatienceSeconds = 300;
