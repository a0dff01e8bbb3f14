import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What never reaches a log line, at any depth: a request's input and result (the users' data),
 * passwords, tokens and credentials, and a model's environments (which may hold its secrets).
 */
export const redactedKeys: ReadonlySet<string> = new Set([
  'input',
  'result',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'secret',
  'apiKey',
  'env',
  'containerEnv',
]);

const censor = '[redacted]';
const maxDepth = 10;

/**
 * A copy of a log line's fields with every redacted key censored, however deep (pino's own
 * redaction takes fixed paths: one level down was all it covered). Errors, dates and buffers
 * pass as they are, for pino's serializers; past ten levels a value is cut, not walked.
 */
export function censored(value: unknown, depth = 0): unknown {
  if (
    value === null ||
    typeof value !== 'object' ||
    value instanceof Error ||
    value instanceof Date ||
    Buffer.isBuffer(value)
  )
    return value;
  if (depth >= maxDepth) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => censored(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, redactedKeys.has(key) ? censor : censored(field, depth + 1)]),
  );
}

/** One JSON line per event, with the redactions above; `npm start` pipes it through pino-pretty when that is installed. */
export function createLogger(level: string, name = 'podium', destination?: DestinationStream): Logger {
  return pino(
    { name, level, formatters: { log: (fields) => censored(fields) as Record<string, unknown> } },
    destination,
  );
}
