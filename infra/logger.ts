import pino, { type Logger } from 'pino';

/** One JSON line per event; `npm start` pipes it through pino-pretty when that is installed. */
export function createLogger(level: string, name = 'podium'): Logger {
  return pino({ name, level });
}
