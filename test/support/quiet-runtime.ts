import { installTemporalRuntime } from '../../infra/temporal-runtime';

let installed = false;

/**
 * Installs this test file's Temporal Runtime (each file has its own module registry) with
 * errors only: tests that break replay on purpose would otherwise print Core's warnings. Once
 * per module registry: a script that starts several stacks (the fault suite) installs it once.
 */
export function installQuietRuntime(): void {
  if (installed) return;
  installTemporalRuntime('ERROR');
  installed = true;
}
