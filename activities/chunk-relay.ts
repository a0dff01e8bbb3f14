import { ApplicationFailure } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { appendChunks, claimStream } from '../db/request-chunks';
import type { RequestChunk } from '../domain/request-events';
import { lastPieces, nextPieces, resumeFrom, type StreamPiece, type StreamResume } from '../domain/stream-resume';

/** Output waiting to be written past this many characters makes the model's stream wait. */
const maxPendingChars = 1_000_000;

/** Where a streamed call's output goes as it comes: `push` each piece, `finish` at its end. */
export type ChunkRelay = {
  push(text: string): Promise<void>;
  /** Writes what is left; resolves once every chunk is stored. */
  finish(): Promise<void>;
};

/**
 * Stores a request's output chunks as they come. A write starts as soon as the previous one is
 * done, with everything that came meanwhile: one chunk per write while the database keeps up,
 * bigger batches when it does not, and bounded memory. This try claims the stream first, so a
 * try cut off from its worker cannot write after it (STREAM_TAKEN_OVER), and retraces what
 * earlier tries stored (domain/stream-resume.ts).
 */
export function createChunkRelay(db: DatabasePool, requestId: string): ChunkRelay {
  // Claimed while the model is asked: the first piece rarely comes before it is known.
  const claimed = claimStream(db, requestId);
  claimed.catch(() => undefined); // seen by the first push or finish
  let resume: StreamResume | null = null;
  let nextSeq = 0;
  let attempt = 0;
  let pending: RequestChunk[] = [];
  let pendingChars = 0;
  let writing: Promise<void> | null = null;
  let failure: unknown = null;

  const ready = async () => {
    if (resume) return resume;
    const claim = await claimed;
    if (!claim) throw ApplicationFailure.nonRetryable(`request ${requestId} is gone`, 'REQUEST_NOT_WAITING');
    attempt = claim.attempt;
    nextSeq = claim.lastSeq + 1;
    resume = resumeFrom(claim.stored);
    return resume;
  };

  const enqueue = (pieces: StreamPiece[]) => {
    for (const piece of pieces) {
      pending.push({ seq: nextSeq++, attempt, kind: piece.kind, text: piece.text });
      pendingChars += piece.text.length;
    }
    if (!writing && pending.length > 0) writing = writeAll();
  };

  const writeAll = async () => {
    try {
      while (pending.length > 0 && failure === null) {
        const batch = pending;
        pending = [];
        pendingChars = 0;
        if (!(await appendChunks(db, requestId, attempt, batch))) {
          throw ApplicationFailure.nonRetryable(
            `another try took over request ${requestId}'s stream`,
            'STREAM_TAKEN_OVER',
          );
        }
      }
    } catch (error) {
      failure = error;
    } finally {
      writing = null;
    }
  };

  const throwIfFailed = () => {
    if (failure !== null) throw failure;
  };

  return {
    async push(text) {
      throwIfFailed();
      if (text === '') return;
      const next = nextPieces(await ready(), text);
      resume = next.state;
      enqueue(next.pieces);
      if (pendingChars > maxPendingChars) await writing;
    },
    async finish() {
      enqueue(lastPieces(await ready()));
      while (writing) await writing;
      throwIfFailed();
    },
  };
}
