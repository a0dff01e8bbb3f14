import type { PodiumConfig } from '../domain/config';
import type { LocalCommandPolicy } from '../domain/local-command-policy';
import { mlserver, pythonToolDir } from './python-tools';

/** What the local runtime may run: the operator's LOCAL_MODELS_ROOT and LOCAL_MODEL_COMMANDS, and the MLServer Podium pins (`.tools/`). */
export function localCommandPolicyOf(
  config: Pick<PodiumConfig, 'LOCAL_MODELS_ROOT' | 'LOCAL_MODEL_COMMANDS'>,
): LocalCommandPolicy {
  return {
    modelsRoot: config.LOCAL_MODELS_ROOT,
    commands: [...config.LOCAL_MODEL_COMMANDS, `${pythonToolDir(mlserver)}/bin/mlserver`],
  };
}

/** The policy of a configuration left at its defaults: what tests and benches run under unless they say otherwise. */
export const defaultLocalCommands: LocalCommandPolicy = localCommandPolicyOf({
  LOCAL_MODELS_ROOT: 'models',
  LOCAL_MODEL_COMMANDS: [],
});
