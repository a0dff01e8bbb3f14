import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  IdleTransactionTimeoutError,
  StatementTimeoutError,
} from 'slonik';
import { QueryDeadlineError } from './query-deadline';

/** Node's socket errors: the database's host refused, reset or never answered the connection. */
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "try again": connection exceptions (class 08), the server shutting down or
 * starting (57P01–57P03), too many connections, and the transaction conflicts (40001, 40P01).
 */
function isTransientSqlState(code: string): boolean {
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code);
}

/**
 * Whether `error` means the database is out of reach for now (down, restarting, overloaded, a
 * connection cut), as opposed to a real error that another try would repeat (a constraint, a
 * row that does not parse, a bug). Bookkeeping retries the first kind until the database
 * answers and gives up at once on the second.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (
      cause instanceof ConnectionError ||
      cause instanceof BackendTerminatedError ||
      cause instanceof BackendTerminatedUnexpectedlyError ||
      cause instanceof IdleTransactionTimeoutError ||
      cause instanceof StatementTimeoutError ||
      cause instanceof QueryDeadlineError
    ) {
      return true;
    }
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (socketCodes.has(code) || isTransientSqlState(code))) return true;
    // pg's own wording for a connection that ended or never came, or a pooled client queried
    // after its connection broke (it sets no code): another try takes another connection.
    if (
      /connection terminated|timeout exceeded when trying to connect|query read timeout|is not queryable/i.test(
        cause.message,
      )
    )
      return true;
    // Node's wording for a socket error ("read ECONNRESET"), met without its code: CI46 saw a
    // warm request fail for good on one while the worker's database connections were cut.
    if (/^(read|write|connect) (ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)\b/.test(cause.message)) return true;
  }
  return false;
}
