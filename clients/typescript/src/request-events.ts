import { createParser } from 'eventsource-parser';
import type { RequestEvent as WireEvent } from '../../../domain/request-events';
import { backoffMs } from './call-decisions';
import { errorFromAnswer, PodiumError } from './errors';

type Received<E> = E extends { event: infer Kind; data: infer Data } ? { id: string; kind: Kind; data: Data } : never;

/**
 * One of a request's events: `status` (it changed), `chunk` (the next piece of a streamed
 * output, `data.text`), `restart` (a later try: what came before is not the answer) or `end`.
 * `id` is where the stream stands after it (`Last-Event-ID`).
 */
export type RequestEvent = Received<WireEvent>;

/** Opens the events stream after `lastEventId` (none: from the start). */
export type OpenEvents = (lastEventId: string | undefined, signal: AbortSignal | undefined) => Promise<Response>;

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * A request's events until its `end`. A cut stream is opened again after the last event seen,
 * as EventSource would: nothing twice, nothing missed. It gives up after `maxFailures` failed
 * connections in a row, and at once on a refusal (4xx).
 */
export async function* requestEvents(
  open: OpenEvents,
  requestId: string,
  options: { signal?: AbortSignal; maxFailures: number },
): AsyncGenerator<RequestEvent> {
  const { signal, maxFailures } = options;
  let lastEventId: string | undefined;
  let retryMs = 1000;
  const arrived: RequestEvent[] = [];
  const parser = createParser({
    onEvent: (event) =>
      arrived.push({
        id: event.id ?? '',
        kind: event.event ?? 'message',
        data: JSON.parse(event.data),
      } as RequestEvent),
    onRetry: (ms) => (retryMs = ms),
  });
  for (let failures = 0; ;) {
    let reader: ReadableStreamDefaultReader<string> | undefined;
    try {
      const response = await open(lastEventId, signal);
      if (!response.ok && response.status !== 429 && response.status < 500) {
        throw errorFromAnswer(response.status, await response.json().catch(() => null), requestId);
      }
      if (!response.ok || !response.body) throw new Error(`the events stream answered ${response.status}`);
      failures = 0;
      parser.reset({ consume: false });
      reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
        while (arrived.length > 0) {
          const event = arrived.shift()!;
          lastEventId = event.id || lastEventId;
          yield event;
          if (event.kind === 'end') return;
        }
      }
    } catch (error) {
      if (signal?.aborted || error instanceof PodiumError) throw error;
      if (++failures > maxFailures) throw error;
    } finally {
      await reader?.cancel().catch(() => undefined);
    }
    await sleep(Math.max(retryMs, backoffMs(failures)), signal);
  }
}
