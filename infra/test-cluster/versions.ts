import path from 'node:path';
import { podiumCacheDir } from '../../lib/cache-dir';

/**
 * The simulated cluster's parts, pinned. All come from the Go module proxy and build with Go 1.26
 * (k8s.io/kubernetes v1.36 needs `go 1.26.0`; kwok v0.8.0 is built against the v0.36 libraries).
 */
export const clusterVersions = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
} as const;

/** Built binaries live outside the repository, one directory per component and version. */
export function clusterCacheDir(): string {
  return path.join(podiumCacheDir(), 'k8s');
}

export type ClusterBinaries = {
  kubeApiserver: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
  /** kwok's stage definitions (what happens to nodes and pods), generated at build time. */
  kwokStages: string;
};

export function clusterBinaryPaths(cacheDir = clusterCacheDir()): ClusterBinaries {
  const kubernetes = path.join(cacheDir, `kubernetes-${clusterVersions.kubernetes}`, 'bin');
  const kwok = path.join(cacheDir, `kwok-${clusterVersions.kwok}`);
  return {
    kubeApiserver: path.join(kubernetes, 'kube-apiserver'),
    kubeScheduler: path.join(kubernetes, 'kube-scheduler'),
    etcd: path.join(cacheDir, `etcd-${clusterVersions.etcd}`, 'bin', 'etcd'),
    kwok: path.join(kwok, 'bin', 'kwok'),
    kwokStages: path.join(kwok, 'stages.yaml'),
  };
}
