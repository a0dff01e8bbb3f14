import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { inferenceResponse } from '../domain/inference-protocol';
import { loadWorkRequestInput, saveWorkRequestResult } from '../db/work-requests';

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 500) || response.statusText;
}

export function createInferenceActivities({ pool }: { pool: DatabasePool }) {
  return {
    /**
     * Sends the request's input to the instance (Open Inference Protocol v2) and stores the
     * answer. Input and result stay between Postgres and the model: never in workflow history.
     */
    async runInference({ requestId, endpoint }: { requestId: string; endpoint: string }): Promise<void> {
      const { modelId, input } = await loadWorkRequestInput(pool, requestId);
      const response = await fetch(`${endpoint}/v2/models/${encodeURIComponent(modelId)}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...input, id: requestId }),
        signal: Context.current().cancellationSignal,
      });
      if (response.status >= 400 && response.status < 500) {
        throw ApplicationFailure.nonRetryable(
          `model ${modelId} rejected the input: ${await errorText(response)}`,
          'MODEL_REJECTED_INPUT',
        );
      }
      if (!response.ok) {
        throw ApplicationFailure.retryable(
          `model ${modelId} answered ${response.status}: ${await errorText(response)}`,
          'MODEL_ERROR',
        );
      }
      const parsed = inferenceResponse.safeParse(await response.json().catch(() => null));
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `model ${modelId} answered with something that is not an inference response`,
          'MODEL_BAD_RESPONSE',
        );
      }
      await saveWorkRequestResult(pool, requestId, parsed.data);
    },
  };
}
