import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { outsideRequestBudget } from './request-budget';

/** How long a client waits before it reconnects, told in the stream (EventSource's `retry`). */
const reconnectMs = 1_000;

export type EventStream = {
  /** Writes, waiting while the client reads more slowly than events come (bounded memory). */
  write(text: string): Promise<void>;
  end(): void;
  /** Aborts when the client has gone. */
  closed: AbortSignal;
};

/**
 * Answers the request with a `text/event-stream` that `pump` writes to, after the route has
 * returned: outside the request's budget, with no socket timeout, and never buffered by a proxy
 * that reads `X-Accel-Buffering`. What `pump` throws ends the stream, with the last words
 * `onError` gives for it (and logs).
 */
export function answerWithEventStream(
  ctx: Context,
  pump: (stream: EventStream) => Promise<void>,
  onError: (error: unknown) => string,
  /** Whether to tell the client when to reconnect: EventSource reads it; OpenAI's SDKs take it for an empty event. */
  { reconnect = true }: { reconnect?: boolean } = {},
): void {
  const body = new PassThrough();
  const closed = new AbortController();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.req.on('close', () => closed.abort());
  body.on('close', () => closed.abort());
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = body;
  if (reconnect) body.write(`retry: ${reconnectMs}\n\n`);

  const stream: EventStream = {
    async write(text) {
      if (closed.signal.aborted) return;
      if (!body.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            body.off('drain', done);
            closed.signal.removeEventListener('abort', done);
            resolve();
          };
          body.on('drain', done);
          closed.signal.addEventListener('abort', done);
        });
      }
    },
    end: () => body.end(),
    closed: closed.signal,
  };
  void outsideRequestBudget(() =>
    pump(stream)
      .catch((error: unknown) => {
        if (!closed.signal.aborted) body.write(onError(error));
      })
      .finally(() => body.end()),
  );
}
