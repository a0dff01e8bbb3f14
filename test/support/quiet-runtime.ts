import { installTemporalRuntime } from '../../infra/temporal-runtime';

/**
 * Installs this test file's Temporal Runtime (each file has its own module registry) with
 * errors only: tests that break replay on purpose would otherwise print Core's warnings.
 */
export function installQuietRuntime(): void {
  installTemporalRuntime('ERROR');
}
