import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { RequestOwner } from '../db/work-requests';
import type { EventPosition, RequestEvent } from '../domain/request-events';
import type { Authenticate } from './auth/authenticator';
import { sessionCheck } from './auth/session-auth';
import { answerWithEventStream } from './http/event-stream';
import { followRequest, type FollowDeps } from './request-follower';

export type RequestEventStreamDeps = FollowDeps & { authenticate: Authenticate; logger: Logger; heartbeatMs: number };

/** How one front door writes a request's events in its own format. */
export type EventFormat = {
  /** What is written before the first event. */
  opening?: string;
  /** What an event writes (nothing: ''); `last`: the stream ends after it. `closed`: the client has gone. */
  render(event: RequestEvent, closed: AbortSignal): Promise<{ text: string; last?: boolean }>;
  /** The last words when the session ends or its token expires. */
  sessionEnded: string;
  /** The last words when the stream fails (it is logged). */
  failed: string;
  /** Whether to say when to reconnect: EventSource reads it; OpenAI's SDKs take it for an empty event. */
  reconnect: boolean;
  /** Called when the client went away before the end. */
  clientGone?: () => Promise<void>;
};

/**
 * Answers with a request's events from `from` on, as every door streams them: followed from
 * PostgreSQL (api/request-follower.ts), a `: keep-alive` comment when idle, the session checked as
 * often, each event written in the door's format.
 */
export function answerWithRequestEvents(
  ctx: Context,
  deps: RequestEventStreamDeps,
  request: { id: string; owner: RequestOwner },
  from: EventPosition,
  format: EventFormat,
): void {
  answerWithEventStream(
    ctx,
    async (stream) => {
      if (format.opening) await stream.write(format.opening);
      const events = followRequest(deps, request, from, { signal: stream.closed, idleMs: deps.heartbeatMs });
      const signedIn = sessionCheck(ctx, deps.authenticate, deps.heartbeatMs);
      for await (const event of events) {
        if (!(await signedIn())) return void (await stream.write(format.sessionEnded));
        if (event === null) {
          await stream.write(': keep-alive\n\n');
          continue;
        }
        const { text, last } = await format.render(event, stream.closed);
        if (text) await stream.write(text);
        if (last) return;
      }
      if (stream.closed.aborted) await format.clientGone?.();
    },
    (error) => {
      deps.logger.warn({ err: error, requestId: request.id }, 'request event stream failed');
      return format.failed;
    },
    { reconnect: format.reconnect },
  );
}

/** One `data:` event, as the OpenAI and OIP streams write them. */
export const dataEvent = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
