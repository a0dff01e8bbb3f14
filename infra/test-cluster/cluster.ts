import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { findFreePort } from '../../lib/ports';
import { ensureClusterBinaries } from './build';
import { defaultNodes, kwokNode, kwokNodeAnnotation, type NodeType } from './nodes';
import { startClusterProcess, type ClusterProcess } from './processes';
import { startPodSimulation } from './simulation';

export type TestCluster = {
  kubeconfigPath: string;
  server: string;
  kubeConfig: () => KubeConfig;
  stop: () => Promise<void>;
};

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  processes: ClusterProcess[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exited = processes.map((p) => p.exitDescription()).find(Boolean);
    if (exited) throw new Error(`${what}: ${exited}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

/** GET over HTTPS without verifying the API server's self-signed certificate; true on 200. */
function httpsOk(url: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.once('error', () => resolve(false));
    req.end();
  });
}

function kubeconfigYaml(server: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: podium-test',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: podium-admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: podium-test',
    '  context: {cluster: podium-test, user: podium-admin}',
    'current-context: podium-test',
    '',
  ].join('\n');
}

/**
 * A real Kubernetes control plane without containers: etcd → kube-apiserver (waits for
 * /readyz) → kube-scheduler → kwok, on free ports with state under `dir`, plus fake nodes and
 * the simulated container runtime (simulation.ts). Stops in reverse order.
 */
export async function startTestCluster(options: {
  dir: string;
  log?: (line: string) => void;
  nodes?: Array<{ name: string; type: NodeType }>;
  /** Created at start (there is no namespace controller to rely on later). */
  namespaces?: string[];
}): Promise<TestCluster> {
  const log = options.log ?? console.log;
  const binaries = await ensureClusterBinaries(log);
  const dir = options.dir;
  await mkdir(path.join(dir, 'certs'), { recursive: true });
  const [etcdPort, etcdPeerPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const token = randomBytes(24).toString('hex');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountKey = path.join(dir, 'service-account.key');
  await writeFile(serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const tokenFile = path.join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${token},podium-admin,podium-admin,system:masters\n`, { mode: 0o600 });
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigYaml(server, token), { mode: 0o600 });

  const processes: ClusterProcess[] = [];
  let simulation: { stop: () => Promise<void> } | undefined;
  const stop = async () => {
    await simulation?.stop();
    for (const process of [...processes].reverse()) await process.stop();
  };
  const start = (name: string, binary: string, args: string[]) => {
    processes.push(startClusterProcess(name, binary, args, path.join(dir, `${name}.log`)));
  };

  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    start('etcd', binaries.etcd, [
      '--name=podium-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=podium-test=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync', // a test cluster's data need not survive a power cut
      '--log-level=warn',
    ]);
    await waitFor('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, processes);

    start('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'certs')}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${serviceAccountKey}`,
      `--service-account-signing-key-file=${serviceAccountKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // No controller-manager creates service-account tokens here.
      // No node-lifecycle controller either, so nothing would lift the not-ready taint that
      // TaintNodesByCondition puts on every new node.
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
    ]);
    await waitFor('kube-apiserver', () => httpsOk(`${server}/readyz`, token), processes);

    start('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--secure-port=0',
    ]);
    start('kwok', binaries.kwok, [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${binaries.kwokStages}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation.key}=${kwokNodeAnnotation.value}`,
      '--node-lease-duration-seconds=40',
      '--server-address=127.0.0.1:0',
    ]);

    const kubeConfig = () => {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigPath);
      return config;
    };
    const core = kubeConfig().makeApiClient(CoreV1Api);
    for (const name of options.namespaces ?? []) await core.createNamespace({ body: { metadata: { name } } });
    for (const node of options.nodes ?? defaultNodes) await core.createNode({ body: kwokNode(node.name, node.type) });
    const nodeCount = (options.nodes ?? defaultNodes).length;
    await waitFor(
      'kwok (nodes Ready)',
      async () => {
        const nodes = await core.listNode();
        const ready = nodes.items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === nodeCount;
      },
      processes,
    );
    simulation = await startPodSimulation(kubeConfig(), log);
    return { kubeconfigPath, server, kubeConfig, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
