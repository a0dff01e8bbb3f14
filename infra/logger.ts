import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What never reaches a log line: a request's input and result (the users' data), passwords,
 * tokens and credentials, at the top level or one level down.
 */
export const redactedPaths = ['input', 'result', 'password', 'token', 'accessToken', 'refreshToken', 'authorization', 'cookie', 'secret'].flatMap(
  (key) => [key, `*.${key}`],
);

/** One JSON line per event, with the redactions above; `npm start` pipes it through pino-pretty when that is installed. */
export function createLogger(level: string, name = 'podium', destination?: DestinationStream): Logger {
  return pino({ name, level, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}
