import Router from '@koa/router';
import { findOwnRequestState, ownerOf } from '../../db/work-requests';
import { positionOf, serverSentEvent, startOfStream, type EventPosition } from '../../domain/request-events';
import { requireSession, type AuthState } from '../auth/session-auth';
import { ApiError } from '../http/errors';
import { idParam } from '../http/params';
import { bearer, errors, idParameter } from '../http/openapi-parts';
import { answerWithRequestEvents, type RequestEventStreamDeps } from '../request-event-stream';

/** `heartbeatMs`: a comment this often keeps an idle stream open through proxies; the session is checked then too. */
export type RequestEventRouteDeps = RequestEventStreamDeps;

const errorEvent = (error: { status: number; code: string; message: string }) =>
  `event: error\ndata: ${JSON.stringify(error)}\n\n`;

/** Where `Last-Event-ID` (or `?lastEventId`, for a first connection that resumes) says to go on from. */
function resumeFrom(header: string, query: unknown): EventPosition {
  const lastEventId = header || (typeof query === 'string' ? query : '');
  if (!lastEventId) return startOfStream;
  const position = positionOf(lastEventId);
  if (!position) {
    throw new ApiError(
      400,
      'INVALID_LAST_EVENT_ID',
      `Last-Event-ID "${lastEventId.slice(0, 64)}" is not an id this stream gave; send the id of the last event you received, or none to start over`,
    );
  }
  return position;
}

/**
 * `GET /api/requests/:id/events`: the owner's request as server-sent events (status, chunk,
 * restart, end), resumable with `Last-Event-ID`. Any number of readers may follow a request; one
 * that comes after the end gets every chunk and the end.
 */
export function requestEventRoutes(deps: RequestEventRouteDeps) {
  const { db } = deps;
  const router = new Router<AuthState>();

  router.get('/api/requests/:id/events', requireSession(deps.authenticate), async (ctx) => {
    const owner = ownerOf(ctx.state.principal!);
    const id = idParam(ctx, 'request');
    const from = resumeFrom(ctx.get('last-event-id'), ctx.query.lastEventId);
    if (!(await findOwnRequestState(db, id, owner))) {
      throw new ApiError(404, 'REQUEST_NOT_FOUND', `You have no request ${id}`);
    }
    answerWithRequestEvents(ctx, deps, { id, owner }, from, {
      render: async (event) => ({ text: serverSentEvent(event), last: event.event === 'end' }),
      sessionEnded: errorEvent({
        status: 401,
        code: 'SESSION_ENDED',
        message: 'Your session has ended or its token expired',
      }),
      failed: errorEvent({
        status: 500,
        code: 'STREAM_FAILED',
        message: 'The stream failed; reconnect with Last-Event-ID',
      }),
      reconnect: true,
    });
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const requestEventPaths = {
  '/api/requests/{id}/events': {
    get: {
      summary: "Your request's events as they happen (text/event-stream), resumable with Last-Event-ID",
      description:
        'Events: `status` ({ status }) as it changes; `chunk` ({ seq, attempt, text }) for each piece of a streamed output; ' +
        '`restart` ({ seq, attempt }) when a retried try gave different output, whose chunks then follow from its start; ' +
        '`end` ({ status, error }) last. Each event has an id; reconnect with `Last-Event-ID` to go on with nothing ' +
        'repeated or missed. A comment every 15 s keeps an idle stream open; an `error` event with status 401 ends it ' +
        'when the session ends.',
      security: bearer,
      parameters: [
        idParameter,
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          schema: { type: 'string', maxLength: 64 },
          description: 'the id of the last event received: go on after it',
        },
        {
          name: 'lastEventId',
          in: 'query',
          required: false,
          schema: { type: 'string', maxLength: 64 },
          description: 'the same, for clients that cannot set the header',
        },
      ],
      responses: {
        200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errors(400, 401, 404),
      },
    },
  },
};
