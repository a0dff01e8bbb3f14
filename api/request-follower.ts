import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabasePool } from 'slonik';
import { isDatabaseUnavailable } from '../db/database-failures';
import { QueryDeadlineError } from '../db/query-deadline';
import { readChunks } from '../db/request-chunks';
import { findOwnRequestState, type RequestOwner } from '../db/work-requests';
import {
  chunkEvent,
  statusEvent,
  type EventPosition,
  type RequestChunk,
  type RequestEvent,
} from '../domain/request-events';
import { isFinal } from '../domain/request-status';
import type { ChunkNotices } from './request-chunk-notices';
import type { RequestEnds } from './request-ends';

/** Chunks read from the table at once, catching up. */
const pageSize = 500;

/**
 * A read that a busy or restarting database did not answer is tried again, after a pause that
 * grows to a second: a follower waits it out (its heartbeats go on) rather than end the stream.
 */
export async function patiently<T>(read: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let pauseMs = 50; ; pauseMs = Math.min(pauseMs * 2, 1_000)) {
    try {
      return await read();
    } catch (error) {
      const passing = error instanceof QueryDeadlineError || isDatabaseUnavailable(error);
      if (!passing || signal.aborted) throw error;
      await sleep(pauseMs);
    }
  }
}

/** What a follower waits on: chunk notices, and a nudge when the request may have ended. */
class Inbox {
  private batches: (readonly RequestChunk[] | null)[] = [];
  private nudged = false;
  private wake: (() => void) | null = null;

  put(batch: readonly RequestChunk[] | null) {
    this.batches.push(batch);
    this.wake?.();
  }

  /** Something other than a chunk happened: the request is read again. */
  nudge() {
    this.nudged = true;
    this.wake?.();
  }

  /** Waits until something came or `ms` passed; true when something came. */
  async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.batches.length > 0 || this.nudged) return true;
    return new Promise<boolean>((resolve) => {
      const done = (came: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        this.wake = null;
        resolve(came);
      };
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal.addEventListener('abort', aborted);
      this.wake = () => done(true);
    });
  }

  take(): { batches: (readonly RequestChunk[] | null)[]; nudged: boolean } {
    const taken = { batches: this.batches, nudged: this.nudged };
    this.batches = [];
    this.nudged = false;
    return taken;
  }
}

/**
 * The chunks that follow `seq` from what notices carried, or null when they leave a gap (or a
 * notice said to look in the table).
 */
function following(batches: (readonly RequestChunk[] | null)[], seq: number): RequestChunk[] | null {
  const chunks: RequestChunk[] = [];
  let last = seq;
  for (const batch of batches) {
    if (batch === null) return null;
    for (const chunk of batch) {
      if (chunk.seq <= last) continue;
      if (chunk.seq !== last + 1) return null;
      chunks.push(chunk);
      last = chunk.seq;
    }
  }
  return chunks;
}

export type FollowDeps = { db: DatabasePool; notices: ChunkNotices; ends: RequestEnds };

/**
 * A request's events from `from` on, as they happen: its status as it changes, its chunks, and
 * its end once every chunk is sent. Live chunks come from the notices that carry them, so a
 * follower costs no statement per chunk; the table fills any gap. `null` is yielded when nothing
 * happened for `idleMs` (a heartbeat is due). Ends when the request ends, is gone, or `signal`
 * aborts.
 */
export async function* followRequest(
  { db, notices, ends }: FollowDeps,
  request: { id: string; owner: RequestOwner },
  from: EventPosition,
  { signal, idleMs, lookAgainMs = 5_000 }: { signal: AbortSignal; idleMs: number; lookAgainMs?: number },
): AsyncGenerator<RequestEvent | null> {
  const inbox = new Inbox();
  const stopChunks = notices.watch(request.id, (batch) => inbox.put(batch));
  const end = ends.watch(request.id);
  end.signal.addEventListener('abort', () => inbox.nudge());
  let position = from;
  let lookedAt = 0;
  let sentAt = Date.now();
  try {
    for (let first = true; !signal.aborted; first = false) {
      const { batches, nudged } = inbox.take();
      // The row is read at first, when the request may have ended, and now and then in any case
      // (a status change other than the end is not announced).
      const readRow = first || nudged || Date.now() - lookedAt >= lookAgainMs;
      const state = readRow ? await patiently(() => findOwnRequestState(db, request.id, request.owner), signal) : null;
      if (readRow) {
        if (!state) return; // deleted meanwhile
        lookedAt = Date.now();
      }
      const ended = state !== null && isFinal(state.status);
      // A full page from the table may have more after it: the table is read, a page at a time,
      // until it has none (once ended, every chunk is there, and all are sent before the end).
      let chunks = readRow ? null : following(batches, position.seq);
      for (let read = chunks === null; ; read = true) {
        chunks ??= [...(await patiently(() => readChunks(db, request.id, position.seq, pageSize), signal))];
        // A chunk is only written while its request is PROCESSING, so that is what a reader is told.
        const processing = chunks.length > 0 && !ended ? statusEvent('PROCESSING', position) : null;
        if (processing) {
          position = processing.position;
          yield processing;
        }
        for (const chunk of chunks) {
          const event = chunkEvent(chunk, position);
          position = event.position;
          yield event;
        }
        if (chunks.length > 0) sentAt = Date.now();
        if (!(read && chunks.length === pageSize)) break;
        chunks = null;
      }
      const changed = state ? statusEvent(state.status, position) : null;
      if (changed) {
        position = changed.position;
        sentAt = Date.now();
        yield changed;
      }
      if (state && ended) {
        yield {
          event: 'end',
          data: { status: state.status, error: state.error },
          position: { ...position, status: state.status },
        };
        return;
      }

      const untilRowRead = lookAgainMs - (Date.now() - lookedAt);
      const untilHeartbeat = idleMs - (Date.now() - sentAt);
      if (!(await inbox.wait(Math.max(0, Math.min(untilRowRead, untilHeartbeat)), signal))) {
        if (!signal.aborted && Date.now() - sentAt >= idleMs) {
          sentAt = Date.now();
          yield null;
        }
      }
    }
  } finally {
    stopChunks();
    end.stop();
  }
}
