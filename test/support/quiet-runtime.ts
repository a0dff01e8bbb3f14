import { DefaultLogger, Runtime } from '@temporalio/worker';

/**
 * Installs this test file's Temporal Runtime (each file has its own module registry) with
 * errors only, from the TypeScript side and from Core: tests that break replay on purpose
 * would otherwise print Core's "Failing workflow task" warnings.
 */
export function installQuietRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
}
