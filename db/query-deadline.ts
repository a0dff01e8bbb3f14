import type { CommonQueryMethods, DatabasePool, DatabaseTransactionConnection } from 'slonik';
import { withTimeLimit } from '../domain/time-limit';

/**
 * PostgreSQL did not answer in time: hung, frozen or unreachable, or the pool so busy that this
 * caller's turn did not come (the API answers 503 either way). `databaseAnswering` tells them
 * apart: PostgreSQL answered other queries of the same pool while this one waited. At the
 * `commit`, whether the transaction was made is unknown: it may still commit later.
 */
export class QueryDeadlineError extends Error {
  constructor(
    readonly deadlineMs: number,
    readonly at: 'query' | 'commit' = 'query',
    readonly databaseAnswering = false,
  ) {
    super(
      at === 'commit'
        ? `PostgreSQL did not confirm the commit within ${deadlineMs} ms`
        : databaseAnswering
          ? `PostgreSQL answered others, but not this query within ${deadlineMs} ms (the pool is busy)`
          : `PostgreSQL did not answer within ${deadlineMs} ms`,
    );
    this.name = 'QueryDeadlineError';
  }
}

/** When PostgreSQL last answered a query of one wrapped pool (0: never). */
type Pulse = { lastAnswerAt: number };

/** A deadline missed by a caller that began at `since`: PostgreSQL answered others meanwhile (busy), or nobody (down or hung). */
const missed = (pulse: Pulse, ms: number, since: number) =>
  new QueryDeadlineError(ms, 'query', pulse.lastAnswerAt > since);

const queryMethods = new Set<keyof CommonQueryMethods>([
  'any',
  'anyFirst',
  'exists',
  'many',
  'manyFirst',
  'maybeOne',
  'maybeOneFirst',
  'one',
  'oneFirst',
  'query',
]);

/** `work`, or a QueryDeadlineError after `ms` (the work goes on; its answer is dropped). */
function raced<T>(
  work: Promise<T>,
  ms: number,
  pulse: Pulse,
  onLate?: (error: QueryDeadlineError) => void,
): Promise<T> {
  const since = Date.now();
  const answered = work.then((value) => {
    pulse.lastAnswerAt = Date.now();
    return value;
  });
  return withTimeLimit(answered, ms, () => {
    const error = missed(pulse, ms, since);
    onLate?.(error);
    throw error;
  });
}

/**
 * The pool with a client-side deadline on every query and transaction: a PostgreSQL that hangs
 * (frozen, or a connection that went silent) costs the caller `ms`, not the minutes TCP takes to
 * notice. PostgreSQL's own `statement_timeout` cannot help there, since it is PostgreSQL that
 * does not answer.
 *
 * A transaction whose query misses the deadline fails at once and its ROLLBACK waits behind the
 * hung query on the same connection, so nothing it wrote commits; one that cannot even begin
 * within the deadline never runs its handler, even if PostgreSQL answers later. One whose COMMIT
 * misses it fails with `at: 'commit'`: it may yet be made, and the caller must say so. Streams are left
 * alone (a CSV export may rightly take minutes).
 */
export function withQueryDeadline(db: DatabasePool, ms: Deadline): DatabasePool {
  return deadlined(db, ms, { lastAnswerAt: 0 });
}

/** A fixed deadline, or one read as each query starts (what is left of a request's budget). */
type Deadline = number | (() => number);
const msOf = (deadline: Deadline) => (typeof deadline === 'number' ? deadline : deadline());

/** `connection` with its query methods raced against the deadline; `onLate` hears of each miss. */
function deadlined<C extends CommonQueryMethods>(
  connection: C,
  ms: Deadline,
  pulse: Pulse,
  onLate?: (error: QueryDeadlineError) => void,
): C {
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property === 'transaction') return deadlinedTransaction(target, ms, pulse);
      const value = Reflect.get(target, property, receiver) as unknown;
      if (queryMethods.has(property as keyof CommonQueryMethods)) {
        return (...args: unknown[]) =>
          raced((value as (...a: unknown[]) => Promise<unknown>).apply(target, args), msOf(ms), pulse, onLate);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function deadlinedTransaction(
  connection: Pick<CommonQueryMethods, 'transaction'>,
  deadline: Deadline,
  pulse: Pulse,
): CommonQueryMethods['transaction'] {
  return <T>(handler: (t: DatabaseTransactionConnection) => Promise<T>, retryLimit?: number) =>
    new Promise<T>((resolve, reject) => {
      const ms = msOf(deadline);
      const since = Date.now();
      let expired = false;
      const fail = (error: QueryDeadlineError) => {
        expired = true;
        reject(error);
      };
      const beginning = setTimeout(() => fail(missed(pulse, ms, since)), ms);
      let committing: ReturnType<typeof setTimeout> | undefined;
      connection
        .transaction(async (t) => {
          clearTimeout(beginning);
          if (expired) throw new QueryDeadlineError(ms); // began too late: the caller has had its answer
          const result = await handler(deadlined(t, deadline, pulse, fail));
          // Slonik sends the COMMIT after the handler: it may hang as well.
          const commitMs = msOf(deadline);
          committing = setTimeout(() => fail(new QueryDeadlineError(commitMs, 'commit')), commitMs);
          return result;
        }, retryLimit)
        .then(resolve, reject)
        .finally(() => clearTimeout(committing));
    });
}
