import { createParser } from 'eventsource-parser';
import { requestFetch } from './request-calls';

export interface StreamedOutput {
  /** The request's status changed (PROCESSING, say). */
  status?(status: string): void;
  /** The next piece of the output, in order. */
  chunk(text: string): void;
  /** A later try gives other output: what came before is not the answer. */
  restart(): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Follows a request's events (`GET /api/requests/:id/events`) until its `end`, or until `signal`
 * aborts, handing on its status as it changes and its output as it streams. It sends the same authorisation as the page's
 * other calls (EventSource can send no header, so no anonymous token), and resumes a cut
 * connection after the last event seen (`Last-Event-ID`), as EventSource would: nothing twice,
 * nothing missed. It gives up after ten failed connections in a row, or on a refusal (4xx).
 */
export async function followRequestEvents(id: string, output: StreamedOutput, signal: AbortSignal): Promise<void> {
  let lastEventId: string | undefined;
  let retryMs = 1000;
  let ended = false;
  const parser = createParser({
    onEvent(event) {
      if (event.id) lastEventId = event.id;
      if (event.event === 'status') output.status?.((JSON.parse(event.data) as { status: string }).status);
      else if (event.event === 'chunk') output.chunk((JSON.parse(event.data) as { text: string }).text);
      else if (event.event === 'restart') output.restart();
      else if (event.event === 'end') ended = true;
    },
    onRetry: (ms) => (retryMs = ms),
  });
  for (let failures = 0; !ended && !signal.aborted && failures < 10;) {
    try {
      const response = await requestFetch(`/api/requests/${encodeURIComponent(id)}/events`, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal,
      });
      if (response.status >= 400 && response.status < 500 && response.status !== 429) return;
      if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
      failures = 0;
      parser.reset({ consume: false });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      while (!ended) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (ended) await reader.cancel();
    } catch {
      if (signal.aborted) return;
      failures++;
    }
    if (!ended) await sleep(retryMs, signal);
  }
}
