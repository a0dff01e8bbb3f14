import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * Installs the process's Temporal Runtime. Podium stops its workers itself, in order, so the
 * Runtime does not act on signals. `ERROR` quiets Core too (its "Failing workflow task" lines
 * are warnings), for processes whose failures are expected: tests, LOG_LEVEL=error.
 */
export function installTemporalRuntime(level: 'WARN' | 'ERROR'): void {
  Runtime.install({
    logger: new DefaultLogger(level),
    shutdownSignals: [],
    ...(level === 'ERROR' ? { telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } } : {}),
  });
}
