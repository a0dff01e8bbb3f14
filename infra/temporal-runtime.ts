import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * Installs the process's Temporal Runtime. Podium stops its workers itself, in order, so the
 * Runtime does not act on signals. `ERROR` quiets Core too (its "Failing workflow task" lines
 * are warnings), for processes whose failures are expected: tests, LOG_LEVEL=error. With
 * `metrics`, the SDK's Prometheus metrics are served on that address.
 */
export function installTemporalRuntime(level: 'WARN' | 'ERROR', metrics?: { host: string; port: number }): void {
  Runtime.install({
    logger: new DefaultLogger(level),
    shutdownSignals: [],
    telemetryOptions: {
      ...(level === 'ERROR' ? { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } : {}),
      // The SDK's own metrics (temporal_…), scraped apart from Podium's: its exporter serves them.
      ...(metrics && metrics.port > 0 ? { metrics: { prometheus: { bindAddress: `${metrics.host}:${metrics.port}` } } } : {}),
    },
  });
}
