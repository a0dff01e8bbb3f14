import type { ChildProcess } from 'node:child_process';
import { stopServiceProcess } from './service-process';

export default async function kubernetesGlobalTeardown() {
  await stopServiceProcess((globalThis as { podiumTestCluster?: ChildProcess }).podiumTestCluster);
}
