import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runGo } from '../go-command';
import { clusterBinaryPaths, clusterCacheDir, clusterVersions, type ClusterBinaries } from './versions';
import { simulatedEndpointAnnotation } from '../../activities/runtime/kubernetes/pod-endpoint';

type Log = (line: string) => void;

async function fetchModule(module: string, version: string, workDir: string): Promise<string> {
  const json = await runGo(['mod', 'download', '-json', `${module}@${version}`], workDir);
  return (JSON.parse(json) as { Dir: string; GoMod: string }).Dir;
}

/**
 * `go install k8s.io/kubernetes/cmd/…@version` fails: its go.mod replaces every staging module
 * (`k8s.io/api`, …) with a directory. A wrapper module pins each of them to the published
 * `v0.X.Y` instead; the list comes from the upstream go.mod, so it follows the version.
 */
async function kubernetesWrapper(srcDir: string): Promise<string> {
  const version = clusterVersions.kubernetes;
  const upstreamDir = await fetchModule('k8s.io/kubernetes', version, srcDir);
  const upstream = await readFile(path.join(upstreamDir, 'go.mod'), 'utf8');
  const staging = [...upstream.matchAll(/^\s*(?:replace\s+)?(k8s\.io\/[a-z0-9-]+)\s+=>\s+\.\/staging\//gm)].map(
    (m) => m[1]!,
  );
  if (staging.length === 0)
    throw new Error(`no staging replace directives found in k8s.io/kubernetes@${version}/go.mod`);
  const stagingVersion = version.replace(/^v1\./, 'v0.');
  return [
    'module podium.local/kubernetes-build',
    '',
    'go 1.26.0',
    '',
    `require k8s.io/kubernetes ${version}`,
    '',
    ...staging.map((module) => `replace ${module} => ${module} ${stagingVersion}`),
    '',
  ].join('\n');
}

/** etcd's server module also replaces its siblings with directories; pin them the same way. */
function etcdWrapper(): { goMod: string; mainGo: string } {
  const version = clusterVersions.etcd;
  const siblings = ['api/v3', 'client/pkg/v3', 'client/v3', 'pkg/v3'].map((m) => `go.etcd.io/etcd/${m}`);
  return {
    goMod: [
      'module podium.local/etcd-build',
      '',
      'go 1.26.0',
      '',
      `require go.etcd.io/etcd/server/v3 ${version}`,
      '',
      ...siblings.map((module) => `replace ${module} => ${module} ${version}`),
      '',
    ].join('\n'),
    mainGo:
      'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
  };
}

async function buildKubernetes(binaries: ClusterBinaries, log: Log): Promise<void> {
  const version = clusterVersions.kubernetes;
  const [, major, minor] = /^v(\d+)\.(\d+)/.exec(version)!;
  const srcDir = path.join(path.dirname(path.dirname(binaries.kubeApiserver)), 'src');
  await mkdir(srcDir, { recursive: true });
  await writeFile(path.join(srcDir, 'go.mod'), await kubernetesWrapper(srcDir));
  const outDir = `${path.dirname(binaries.kubeApiserver)}.partial`;
  await rm(outDir, { recursive: true, force: true });
  log(`building kube-apiserver and kube-scheduler ${version} with Go (first build on a machine: 5–30 min) …`);
  const ldflags = `-s -w -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor}`;
  await runGo(
    [
      'build',
      '-trimpath',
      '-ldflags',
      ldflags,
      '-o',
      `${outDir}/`,
      'k8s.io/kubernetes/cmd/kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-scheduler',
    ],
    srcDir,
  );
  await rm(path.dirname(binaries.kubeApiserver), { recursive: true, force: true });
  await rename(outDir, path.dirname(binaries.kubeApiserver));
}

async function buildEtcd(binaries: ClusterBinaries, log: Log): Promise<void> {
  const srcDir = path.join(path.dirname(path.dirname(binaries.etcd)), 'src');
  await mkdir(srcDir, { recursive: true });
  const { goMod, mainGo } = etcdWrapper();
  await writeFile(path.join(srcDir, 'go.mod'), goMod);
  await writeFile(path.join(srcDir, 'main.go'), mainGo);
  log(`building etcd ${clusterVersions.etcd} with Go …`);
  await runGo(['mod', 'tidy'], srcDir);
  await runGo(['build', '-trimpath', '-ldflags', '-s -w', '-o', `${binaries.etcd}.partial`, '.'], srcDir);
  await rename(`${binaries.etcd}.partial`, binaries.etcd);
}

/**
 * kwok has no replace directives, so `go install` works. Its stages (what it does to nodes and
 * pods) ship in the module source; we take the "fast" set and gate pod readiness on the
 * simulated container runtime (see simulation.ts): a pod turns Ready only once its model server
 * answers, as a kubelet's readiness probe would have it.
 */
async function buildKwok(binaries: ClusterBinaries, log: Log): Promise<void> {
  const binDir = path.dirname(binaries.kwok);
  await mkdir(binDir, { recursive: true });
  log(`building kwok ${clusterVersions.kwok} with Go …`);
  const version = clusterVersions.kwok;
  await runGo(
    [
      'install',
      '-trimpath',
      '-ldflags',
      `-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version}`,
      `sigs.k8s.io/kwok/cmd/kwok@${version}`,
    ],
    binDir,
    {
      GOBIN: binDir,
      GOFLAGS: '',
    },
  );
  const moduleDir = await fetchModule('sigs.k8s.io/kwok', version, binDir);
  const stage = (file: string) => readFile(path.join(moduleDir, 'kustomize', 'stage', file), 'utf8');
  const podReady = (await stage('pod/fast/pod-ready.yaml')).replace(
    /(\n(\s*)- key: '\.metadata\.deletionTimestamp'\n\s*operator: 'DoesNotExist')/,
    `$1\n$2- key: '.metadata.annotations["${simulatedEndpointAnnotation}"]'\n$2  operator: 'Exists'`,
  );
  if (!podReady.includes(simulatedEndpointAnnotation))
    throw new Error('kwok pod-ready stage changed shape; update buildKwok');
  const stages = [
    await stage('node/fast/node-initialize.yaml'),
    await stage('node/heartbeat-with-lease/node-heartbeat-with-lease.yaml'),
    podReady,
    await stage('pod/fast/pod-complete.yaml'),
    await stage('pod/fast/pod-delete.yaml'),
  ];
  await writeFile(binaries.kwokStages, stages.map((s) => s.trim()).join('\n---\n') + '\n');
}

/**
 * The test cluster's binaries, built once per machine into the cache (~/.cache/podium/k8s).
 * Each component is rebuilt only when its pinned version's binary is missing.
 */
export async function ensureClusterBinaries(
  log: Log = console.log,
  cacheDir = clusterCacheDir(),
): Promise<ClusterBinaries> {
  const binaries = clusterBinaryPaths(cacheDir);
  const started = Date.now();
  const missing = (...files: string[]) => files.some((file) => !existsSync(file));
  const builds = [
    missing(binaries.etcd) && buildEtcd,
    missing(binaries.kwok, binaries.kwokStages) && buildKwok,
    missing(binaries.kubeApiserver, binaries.kubeScheduler) && buildKubernetes,
  ].filter((build) => build !== false);
  for (const build of builds) await build(binaries, log);
  if (builds.length > 0)
    log(`test cluster binaries built in ${((Date.now() - started) / 1000).toFixed(0)} s (cached in ${cacheDir})`);
  return binaries;
}

if (require.main === module) {
  ensureClusterBinaries((line) => console.log(`[test-cluster] ${line}`)).then(
    (binaries) => console.log(JSON.stringify(binaries, null, 2)),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
