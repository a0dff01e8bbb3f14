import { requests } from './podium-client';

export interface StreamedOutput {
  /** The request's status changed (PROCESSING, say). */
  status?(status: string): void;
  /** The next piece of the output, in order. */
  chunk(text: string): void;
  /** A later try gives other output: what came before is not the answer. */
  restart(): void;
}

/**
 * Follows a request's events until its `end`, or until `signal` aborts, handing on its status as
 * it changes and its output as it streams (the client resumes a cut stream with Last-Event-ID).
 * It sends the page's own authorisation, which EventSource cannot. It stops quietly on a refusal
 * or after ten failed connections in a row: the long poll beside it still brings the end.
 */
export async function followRequestEvents(id: string, output: StreamedOutput, signal: AbortSignal): Promise<void> {
  try {
    for await (const event of requests.events(id, { signal, maxFailures: 10 })) {
      if (event.kind === 'status') output.status?.(event.data.status);
      else if (event.kind === 'chunk') output.chunk(event.data.text);
      else if (event.kind === 'restart') output.restart();
    }
  } catch {
    // Stopped: aborted, refused, or out of reach (see above).
  }
}
