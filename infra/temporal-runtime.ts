import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

const pinoLevels = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** The SDK's log lines (activities' and workflows', with their ids) as the process's JSON lines. */
function toPino(logger: Logger) {
  return ({ level, message, meta }: LogEntry) => logger[pinoLevels[level]]({ ...meta }, message);
}

/**
 * Installs the process's Temporal Runtime. Podium stops its workers itself, in order, so the
 * Runtime does not act on signals. `ERROR` quiets Core too (its "Failing workflow task" lines
 * are warnings), for processes whose failures are expected: tests, LOG_LEVEL=error. With
 * `metrics`, the SDK's Prometheus metrics are served on that address; with `logger`, the SDK's
 * lines (the activities' own among them) go to it as JSON.
 */
export function installTemporalRuntime(
  level: 'INFO' | 'WARN' | 'ERROR',
  options: { metrics?: { host: string; port: number }; logger?: Logger } = {},
): void {
  const { metrics, logger } = options;
  Runtime.install({
    logger: new DefaultLogger(level, logger ? toPino(logger) : undefined),
    shutdownSignals: [],
    telemetryOptions: {
      ...(level === 'ERROR' ? { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } : {}),
      // The SDK's own metrics (temporal_…), scraped apart from Podium's: its exporter serves them.
      ...(metrics && metrics.port > 0
        ? { metrics: { prometheus: { bindAddress: `${metrics.host}:${metrics.port}` } } }
        : {}),
    },
  });
}

/** The SDK's level for LOG_LEVEL: its INFO lines are Podium's (a request's end, say), Core's stay at WARN. */
export function runtimeLevelFor(logLevel: string): 'INFO' | 'WARN' | 'ERROR' {
  if (['fatal', 'error', 'silent'].includes(logLevel)) return 'ERROR';
  return logLevel === 'warn' ? 'WARN' : 'INFO';
}
