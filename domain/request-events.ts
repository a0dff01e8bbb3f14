import { z } from 'zod';
import { isFinal, requestStatus, type RequestStatus } from './request-status';

/**
 * What `GET /api/requests/:id/events` sends: the request's status as it changes, its output
 * chunks, and its end. Chunks are numbered from 1 without gaps (migration 029).
 */

/** A stored piece of output; `restart` says a later try's output follows from its start. */
export const requestChunk = z.object({
  seq: z.number().int().min(1),
  attempt: z.number().int(),
  kind: z.enum(['text', 'restart']),
  text: z.string(),
});
export type RequestChunk = z.infer<typeof requestChunk>;

/**
 * Where a reader is: the last chunk it has and the last status it was told. An event's id is
 * this position after it, `<seq>-<STATUS>`, so `Last-Event-ID` resumes with nothing sent twice
 * and nothing missed.
 */
export type EventPosition = { seq: number; status: RequestStatus | null };

export const startOfStream: EventPosition = { seq: 0, status: null };

export function eventId(position: EventPosition): string {
  return `${position.seq}-${position.status ?? 'NONE'}`;
}

const eventIdPattern = /^(\d{1,9})-([A-Z]+)$/;

/** The position a `Last-Event-ID` names; null when it is not one this endpoint gave. */
export function positionOf(lastEventId: string): EventPosition | null {
  const match = eventIdPattern.exec(lastEventId.trim());
  if (!match) return null;
  const status = match[2] === 'NONE' ? null : requestStatus.safeParse(match[2]);
  if (status !== null && !status.success) return null;
  return { seq: Number(match[1]), status: status === null ? null : status.data };
}

/** An event for the wire: its name, its JSON data and the position it leaves the reader at. */
export type RequestEvent =
  | { event: 'status'; data: { status: RequestStatus }; position: EventPosition }
  | { event: 'chunk'; data: { seq: number; attempt: number; text: string }; position: EventPosition }
  | { event: 'restart'; data: { seq: number; attempt: number }; position: EventPosition }
  | {
      event: 'end';
      data: { status: RequestStatus; error: { code: string; message: string } | null };
      position: EventPosition;
    };

export function chunkEvent(chunk: RequestChunk, position: EventPosition): RequestEvent {
  const next = { ...position, seq: chunk.seq };
  return chunk.kind === 'restart'
    ? { event: 'restart', data: { seq: chunk.seq, attempt: chunk.attempt }, position: next }
    : { event: 'chunk', data: { seq: chunk.seq, attempt: chunk.attempt, text: chunk.text }, position: next };
}

/**
 * The status event a reader at `position` is owed, if any. An ended request is told by `end`
 * once its chunks are all sent, never by `status`.
 */
export function statusEvent(status: RequestStatus, position: EventPosition): RequestEvent | null {
  if (isFinal(status) || status === position.status) return null;
  return { event: 'status', data: { status }, position: { ...position, status } };
}

/** One event in the `text/event-stream` format. */
export function serverSentEvent(event: RequestEvent): string {
  return `id: ${eventId(event.position)}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** What a front door whose format cannot say "start over" tells a client at a `restart` (docs/streaming.md). */
export function streamRestartedMessage(requestId: string): string {
  return `The model was called again after a failure and its output differs from what was sent; the whole answer is at GET /api/requests/${requestId}`;
}
