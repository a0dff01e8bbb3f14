import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type ReadEvent = { id: string | undefined; event: string | undefined; data: any };

/**
 * Reads a server-sent event stream as a client does: until it ends, until `stopAfter` says so
 * (the connection is then dropped, as a client that goes away drops it), or `timeoutMs`.
 */
export async function readEventStream(
  url: string,
  options: {
    token: string;
    lastEventId?: string;
    headers?: Record<string, string>;
    method?: string;
    json?: unknown;
    stopAfter?: (event: ReadEvent, events: ReadEvent[]) => boolean;
    timeoutMs?: number;
  },
): Promise<{ status: number; contentType: string | null; events: ReadEvent[]; comments: string[]; body?: unknown }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 60_000);
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, ...options.headers };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
      signal: controller.signal,
    });
    const contentType = response.headers.get('content-type');
    if (!contentType?.startsWith('text/event-stream')) {
      return { status: response.status, contentType, events: [], comments: [], body: await response.json() };
    }
    const events: ReadEvent[] = [];
    const comments: string[] = [];
    let stopped = false;
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        if (stopped) return;
        let data: unknown = message.data;
        try {
          data = JSON.parse(message.data);
        } catch {
          // not JSON ([DONE]): kept as text
        }
        const event = { id: message.id, event: message.event, data };
        events.push(event);
        if (options.stopAfter?.(event, events)) stopped = true;
      },
      onComment: (comment) => comments.push(comment),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    while (!stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    if (stopped) controller.abort();
    return { status: response.status, contentType, events, comments };
  } finally {
    clearTimeout(timer);
  }
}
