import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { imagePolicyOf, type PodiumConfig } from '../../domain/config';
import type { InstanceRuntime } from './instance-runtime';
import type { LocalCommandPolicy } from '../../domain/local-command-policy';
import { LocalProcessRuntime } from './local-runtime';

/** True when @kubernetes/client-node's `loadFromDefault` would find a cluster to talk to. */
export function kubernetesConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) return true; // in a pod
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter) : [path.join(homedir(), '.kube', 'config')];
  return files.some((file) => file !== '' && existsSync(file));
}

/**
 * `INSTANCE_RUNTIME`, or when unset: Kubernetes if configured, else local processes; with the
 * cluster's access on Kubernetes (the node autoscaler's too). client-node is loaded only then:
 * it is ~30 MB of heap that a process running local instances would hold for nothing.
 */
export async function createInstanceRuntime(
  config: Pick<
    PodiumConfig,
    | 'PODIUM_ENV'
    | 'INSTANCE_RUNTIME'
    | 'KUBERNETES_NAMESPACE'
    | 'KUBERNETES_ENDPOINT'
    | 'LOCAL_RUNTIME_IN_PRODUCTION'
    | 'MODEL_IMAGE_REGISTRIES'
    | 'MODEL_IMAGE_REQUIRE_DIGEST'
  >,
  /** What the local runtime may run (infra/local-commands.ts). */
  localCommands: LocalCommandPolicy,
): Promise<{ runtime: InstanceRuntime; kubeConfig: KubeConfig | null }> {
  const kind = config.INSTANCE_RUNTIME ?? (kubernetesConfigured() ? 'kubernetes' : 'local');
  if (kind === 'local') {
    if (config.PODIUM_ENV === 'production' && !config.LOCAL_RUNTIME_IN_PRODUCTION) {
      throw new Error(
        'PODIUM_ENV=production found no Kubernetes cluster, and the local runtime runs model code on this host: configure the cluster, or set LOCAL_RUNTIME_IN_PRODUCTION=true to accept that',
      );
    }
    return { runtime: new LocalProcessRuntime(localCommands), kubeConfig: null };
  }
  const [{ KubeConfig }, { KubernetesRuntime }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('./kubernetes/kubernetes-runtime'),
  ]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const imagePolicy = imagePolicyOf(config);
  return {
    runtime: new KubernetesRuntime({
      kubeConfig,
      namespace: config.KUBERNETES_NAMESPACE,
      endpointSource: config.KUBERNETES_ENDPOINT,
      imagePolicy,
    }),
    kubeConfig,
  };
}
