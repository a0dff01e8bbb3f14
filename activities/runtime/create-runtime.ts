import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { PodiumConfig } from '../../domain/config';
import type { InstanceRuntime } from './instance-runtime';
import { KubernetesRuntime } from './kubernetes/kubernetes-runtime';
import { LocalProcessRuntime } from './local-runtime';

/** True when @kubernetes/client-node's `loadFromDefault` would find a cluster to talk to. */
export function kubernetesConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) return true; // in a pod
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter) : [path.join(homedir(), '.kube', 'config')];
  return files.some((file) => file !== '' && existsSync(file));
}

/** `INSTANCE_RUNTIME`, or when unset: Kubernetes if configured, else local processes. */
export function createInstanceRuntime(
  config: Pick<PodiumConfig, 'INSTANCE_RUNTIME' | 'KUBERNETES_NAMESPACE' | 'KUBERNETES_ENDPOINT'>,
): InstanceRuntime {
  const kind = config.INSTANCE_RUNTIME ?? (kubernetesConfigured() ? 'kubernetes' : 'local');
  if (kind === 'local') return new LocalProcessRuntime();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return new KubernetesRuntime({ kubeConfig, namespace: config.KUBERNETES_NAMESPACE, endpointSource: config.KUBERNETES_ENDPOINT });
}
