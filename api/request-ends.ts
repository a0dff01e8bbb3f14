import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { listenForRequestNotes } from '../db/notification-listener';
import { requestEndsChannel } from '../db/request-ends';
import { isFinal, type RequestStatus } from '../domain/request-status';
import { keyedSignals } from '../domain/keyed-signals';
import { setAside } from './http/request-budget';

/** Waits for requests to end, told by PostgreSQL as each end commits (migration 025). */
export type RequestEnds = {
  /**
   * Reads the request (`read`), and again each time it may have ended, until it has or
   * `timeoutMs` is up; returns the last read. A long poll: the time is set aside from the
   * route's budget.
   */
  readUntilEnded<T extends { status: RequestStatus }>(
    requestId: string,
    timeoutMs: number,
    read: () => Promise<T>,
  ): Promise<T>;
  /** A signal that aborts when the request may have ended; `stop` when no longer wanted. */
  watch(requestId: string): { signal: AbortSignal; stop: () => void };
};

/** Request ends heard from PostgreSQL, for this schema's requests. */
export async function listenForRequestEnds(options: {
  databaseUrl: string;
  ssl?: false | TlsOptions;
  schema: string;
  logger: Logger;
  /**
   * A notice that was missed (while the listener's connection was being replaced) costs a
   * waiting client at most this long: the request is read again after it, heard or not.
   */
  lookAgainMs?: number;
}): Promise<RequestEnds & { stop: () => Promise<void> }> {
  const { lookAgainMs = 5_000 } = options;
  const ends = keyedSignals();
  const listener = await listenForRequestNotes({
    ...options,
    channel: requestEndsChannel,
    name: 'request ends',
    onRequest: ends.fire,
    onResync: () => ends.fireAll(), // ends may have been missed: everyone reads again
  });
  return {
    async readUntilEnded(requestId, timeoutMs, read) {
      setAside(timeoutMs);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // Watched before the read: an end that commits between the two is not missed.
        const end = ends.watch(requestId);
        try {
          const request = await read();
          const left = deadline - Date.now();
          if (isFinal(request.status) || left <= 0) return request;
          // Rejects (at once, if the end came during the read) when the request ends.
          await sleep(Math.min(left, lookAgainMs), undefined, { signal: end.signal }).catch(() => undefined);
        } finally {
          end.stop();
        }
      }
    },
    watch: ends.watch,
    stop: listener.stop,
  };
}
