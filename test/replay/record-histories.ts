// Records the workflow histories that test/replay/recorded-histories.test.ts replays against
// today's workflow code: a long, busy run of every workflow type on real services. Run it with
// `npm run replay:record` when a workflow changes in a way these runs do not cover yet; it
// writes a new folder under test/replay/histories/ and never touches the folders already
// there (those are runs of older code, which every later version must still replay).
//
// The run: a pool over three instances of two slots each, busy with hundreds of requests,
// cancels while queued and while inferring, admin fails and re-queues, an admin stop,
// scale to zero and back, a model that fails, webhooks, a pool that continues as new, requests
// queued past their startup timeout, request workflows cancelled and terminated through Temporal
// (and the request reconciler that ends the latter); the cleanup workflow; a live-instances
// lookup; and the node autoscaler adding and removing nodes on the simulated cluster (whose
// binaries are built on first use, as for the tests).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { sql } from 'slonik';
import { startTestCluster } from '../../infra/test-cluster/cluster';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { startRunServices, type RunServices } from '../support/run-services';
import { testEnv } from '../support/services';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import {
  liveInstancesWorkflowId,
  nodeAutoscalerWorkflowId,
  poolWorkflowId,
  requestReconcilerWorkflowId,
  requestWorkflowId,
  workflowNames,
  type PodiumWorkflows,
} from '../../workflows/contracts';

const root = path.resolve(__dirname, '../..');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const outDir = path.join(__dirname, 'histories', `${new Date().toISOString().slice(0, 10)}-${commit}`);
const log = (line: string) => console.log(`[record] ${line}`);

type Outcome = { id: string; status: string; errorCode: string | null; tags: string[] };

/** Every run of a workflow id, oldest first, as the Temporal CLI's JSON would print it. */
async function writeHistories(temporal: Client, name: string, workflowId: string): Promise<number> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const execution of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: execution.runId, startTime: execution.startTime });
  }
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (const [i, run] of runs.entries()) {
    const history = await temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const file = path.join(outDir, `${name}${runs.length > 1 ? `.run${i + 1}` : ''}.json.gz`);
    await writeFile(file, gzipSync(Buffer.from(historyToJSON(history))));
    log(`${path.relative(root, file)}: ${history.events?.length} events`);
  }
  return runs.length;
}

/** Submits `count` requests from `clients` concurrent clients; `during` runs beside each. */
function burst(
  stack: TestStack,
  token: string,
  model: string,
  count: number,
  clients: number,
  during: (id: string, n: number) => Promise<void>,
) {
  return fromConcurrentClients(count, clients, async (n) => {
    const delay = (n * 7) % 40; // the model's own time, 0-39 ms
    const { body } = await stack.api.submit(token, { model, input: { ...echoInput, parameters: { delay_ms: delay } } });
    await during(body.id, n);
    return body.id as string;
  });
}

async function recordPoolsAndRequests(services: RunServices) {
  const stack = await startTestStack({ services });
  try {
    const token = await stack.api.anonymousToken();
    const admin = (await stack.signUpAdmin()).token;
    const receiver = createServer((request, response) => {
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
    await addTestModel(stack.db, {
      id: 'echo-busy',
      maxInstances: 3,
      maxConcurrency: 2,
      keepWarmSeconds: 3,
      startupTimeoutSeconds: 10,
    });
    const tags = new Map<string, string[]>();
    const tag = (id: string, label: string) => tags.set(id, [...(tags.get(id) ?? []), label]);
    const setStatus = (id: string, status: 'FAILED' | 'REQUESTED') =>
      stack.api.call('POST', `/api/admin/requests/${id}/status`, {
        token: admin,
        json: { status, reason: `recorded ${status}` },
      });

    log('phase 1: 270 requests from 3, 6 then 12 clients, with cancels and admin actions');
    const first: string[] = [];
    for (const clients of [3, 6, 12]) first.push(...(await burst(stack, token, 'echo-busy', 90, clients, actOn)));
    async function actOn(id: string, n: number) {
      if (n % 17 === 3) {
        tag(id, 'cancelled');
        await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
      } else if (n % 37 === 11) {
        tag(id, 'admin-failed');
        await setStatus(id, 'FAILED');
      } else if (n % 41 === 7) {
        tag(id, 'requeued');
        await setStatus(id, 'REQUESTED');
      }
    }
    const waitAll = (ids: string[]) => Promise.all(ids.map((id) => stack.api.waitUntilFinal(token, id, 120_000)));
    await waitAll(first);

    log('scale to zero: waiting for every instance to stop');
    const live = () =>
      stack.db.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM model_instances WHERE status NOT IN ('TERMINATED', 'FAILED')`,
      );
    await eventually(live, (n) => n === 0, 30_000);

    log('phase 2: back from zero, 60 requests, 8 clients, an admin stop, webhooks');
    let stopped = false;
    const second = await burst(stack, token, 'echo-busy', 60, 8, async (_id, n) => {
      if (n !== 30 || stopped) return;
      stopped = true;
      const instance = await stack.db.maybeOneFirst(sql.unsafe`
        SELECT id FROM model_instances WHERE model_id = 'echo-busy' AND status NOT IN ('TERMINATED', 'FAILED') LIMIT 1`);
      if (instance)
        await stack.api.call('POST', `/api/admin/instances/${instance}/stop`, {
          token: admin,
          json: { reason: 'recorded stop' },
        });
    });
    const hooked = await burst(stack, token, 'echo', 3, 1, async () => undefined);
    const withHook = await Promise.all(
      [1, 2].map(
        async () => (await stack.api.submit(token, { model: 'echo', input: echoInput, webhook })).body.id as string,
      ),
    );
    withHook.forEach((id) => tag(id, 'webhook'));
    const failing = await Promise.all(
      [1, 2].map(async () => (await stack.api.submit(token, { model: 'fail', input: echoInput })).body.id as string),
    );
    await waitAll([...second, ...hooked, ...withHook, ...failing]);
    receiver.close();

    log('a pool that continues as new every ~20 events (all it knows is in Postgres)');
    await addTestModel(stack.db, { id: 'echo-carry', maxInstances: 2, maxConcurrency: 2, keepWarmSeconds: 2 });
    await stack.temporal.workflow.start<PodiumWorkflows['modelPool']>(workflowNames.modelPool, {
      taskQueue: stack.taskQueue,
      workflowId: poolWorkflowId(stack.taskQueue, 'echo-carry'),
      args: [{ modelId: 'echo-carry', historyLimit: 20 }],
    });
    const carried = await burst(stack, token, 'echo-carry', 80, 4, async () => undefined);

    log('requests queued past their startup timeout: each looks at its pool');
    await addTestModel(stack.db, { id: 'echo-slow', maxInstances: 1, startupTimeoutSeconds: 2 });
    const slow = await Promise.all(
      [1, 2, 3].map(
        async () =>
          (
            await stack.api.submit(token, {
              model: 'echo-slow',
              input: { ...echoInput, parameters: { delay_ms: 2_500 } },
            })
          ).body.id as string,
      ),
    );
    slow.forEach((id) => tag(id, 'waited-long'));
    await waitAll([...carried, ...slow]);

    log("Temporal's own controls: a workflow cancelled, two terminated (the reconciler ends them)");
    const controlled = await Promise.all(
      [1, 2, 3].map(
        async () =>
          (
            await stack.api.submit(token, {
              model: 'echo-slow',
              input: { ...echoInput, parameters: { delay_ms: 3_000 } },
            })
          ).body.id as string,
      ),
    );
    await sleep(500);
    const [cancelledByTemporal, ...terminated] = controlled.map((id) =>
      stack.temporal.workflow.getHandle(requestWorkflowId(id)),
    );
    await cancelledByTemporal!.cancel();
    for (const handle of terminated) await handle.terminate('recorded terminate');
    tag(controlled[0]!, 'workflow-cancelled');
    await eventually(
      async () =>
        Promise.all(
          controlled.map(async (id) => (await stack.api.call('GET', `/api/requests/${id}`, { token })).body.status),
        ),
      (statuses) => statuses.every((status) => status === 'CANCELLED' || status === 'FAILED'),
      40_000,
    );

    log('deadlines: two requests expire in line behind a slow one, one is cut as it runs');
    // A model of its own: with no answer measured yet, no estimate refuses the deadlines.
    await addTestModel(stack.db, { id: 'echo-due', maxInstances: 1 });
    const slowInput = { ...echoInput, parameters: { delay_ms: 3_000 } };
    const ahead = (await stack.api.submit(token, { model: 'echo-due', input: slowInput })).body.id as string;
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${ahead}`, { token })).body.status,
      (status) => status === 'PROCESSING',
      30_000,
    );
    const expiring = await Promise.all(
      [1, 2].map(
        async () =>
          (await stack.api.submit(token, { model: 'echo-due', input: echoInput }, { 'cancel-after': '1s' })).body
            .id as string,
      ),
    );
    expiring.forEach((id) => tag(id, 'expired'));
    const cut = (await stack.api.submit(token, { model: 'echo', input: slowInput, deadline: '1s' })).body.id as string;
    tag(cut, 'deadline-cut');
    const timed = [ahead, ...expiring, cut];
    await waitAll(timed);

    const outcomes: Outcome[] = [];
    for (const id of [...first, ...second, ...withHook, ...failing, ...slow, ...controlled, ...timed]) {
      const { request } = await stack.api.waitUntilFinal(token, id, 5_000);
      outcomes.push({ id, status: request.status, errorCode: request.error?.code ?? null, tags: tags.get(id) ?? [] });
    }
    const counts = outcomes.reduce<Record<string, number>>(
      (acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }),
      {},
    );
    log(`outcomes: ${JSON.stringify(counts)}`);

    log('cleanup and live instances');
    await stack.temporal.workflow.execute<PodiumWorkflows['cleanupOldRequests']>(workflowNames.cleanupOldRequests, {
      taskQueue: stack.taskQueue,
      workflowId: 'cleanup-recorded',
      args: [{ retentionDays: 7, actor: 'ops:recorder', reason: 'recorded run' }],
    });
    // Refused before it deletes anything: no actor, and a retention of 0 days.
    await stack.temporal.workflow
      .execute<PodiumWorkflows['cleanupOldRequests']>(workflowNames.cleanupOldRequests, {
        taskQueue: stack.taskQueue,
        workflowId: 'cleanup-refused',
        args: [{ retentionDays: 0 }],
      })
      .then(
        () => {
          throw new Error('a cleanup with no actor and 0 days ran');
        },
        () => undefined,
      );
    // No longer started by the instances page (it reads runtime_views), but registered so that
    // runs started before that finish: its history is still recorded and replayed.
    await stack.temporal.workflow.execute<PodiumWorkflows['describeLiveInstances']>(
      workflowNames.describeLiveInstances,
      {
        taskQueue: stack.taskQueue,
        workflowId: liveInstancesWorkflowId('recorded'),
        args: [{}],
      },
    );

    // Let visibility catch up before listing runs.
    await sleep(2_000);
    for (const model of ['echo-busy', 'echo', 'fail', 'echo-carry', 'echo-slow'])
      await writeHistories(stack.temporal, `pool-${model}`, poolWorkflowId(stack.taskQueue, model));
    const pick = (label: string, accept: (o: Outcome) => boolean, n: number) =>
      outcomes
        .filter(accept)
        .slice(0, n)
        .map((o, i) => ({ name: `request-${label}-${i + 1}`, id: o.id }));
    const requests = [
      ...pick('complete', (o) => o.status === 'COMPLETE' && o.tags.length === 0, 3),
      ...pick('cancelled', (o) => o.status === 'CANCELLED', 3),
      ...pick('admin-failed', (o) => o.errorCode === 'FAILED_BY_ADMIN', 2),
      ...pick('requeued', (o) => o.tags.includes('requeued'), 2),
      ...pick('model-failed', (o) => o.errorCode === 'MODEL_ERROR', 2),
      ...pick('webhook', (o) => o.tags.includes('webhook'), 1),
      ...pick('waited-long', (o) => o.tags.includes('waited-long'), 3),
      ...pick('workflow-cancelled', (o) => o.tags.includes('workflow-cancelled'), 1),
      ...pick('expired', (o) => o.errorCode === 'EXPIRED', 2),
      ...pick('deadline-cut', (o) => o.errorCode === 'DEADLINE_EXCEEDED', 1),
    ];
    for (const { name, id } of requests) await writeHistories(stack.temporal, name, requestWorkflowId(id));
    await writeHistories(stack.temporal, 'cleanup', 'cleanup-recorded');
    await writeHistories(stack.temporal, 'cleanup-refused', 'cleanup-refused');
    await writeHistories(stack.temporal, 'request-reconciler', requestReconcilerWorkflowId(stack.taskQueue));
    await writeHistories(stack.temporal, 'live-instances', liveInstancesWorkflowId('recorded'));
  } finally {
    await stack.stop();
  }
}

async function recordAutoscaler(services: RunServices) {
  const clusterDir = await mkdtemp(path.join(tmpdir(), 'podium-record-cluster-'));
  const cluster = await startTestCluster({ dir: clusterDir, log: (line) => log(`[test-cluster] ${line}`) });
  process.env[testEnv.kubeconfig] = cluster.kubeconfigPath;
  const stack = await startTestStack({
    services,
    kubernetes: true,
    autoscaler: {
      batchWindowMs: 100,
      minNodeLifetimeMs: 2_000,
      scaleDownDelayMs: 1_000,
      provisioningTimeoutMs: 30_000,
    },
  });
  try {
    log('node autoscaler: models whose pods fit no node, twice over');
    const token = await stack.api.anonymousToken();
    await addTestModel(stack.db, {
      id: 'echo-xl',
      resources: { cpu: '20', memory: '8Gi' },
      keepWarmSeconds: 1,
      maxInstances: 2,
      maxConcurrency: 1,
    });
    const ourNodes = async () =>
      (await stack.kubernetes!.core.listNode()).items.filter(
        (n) => n.metadata?.annotations?.['podium.dev/autoscaler'] === stack.kubernetes!.namespace,
      );
    for (let round = 0; round < 2; round++) {
      const ids = await burst(stack, token, 'echo-xl', 3, 3, async () => undefined);
      await Promise.all(ids.map((id) => stack.api.waitUntilFinal(token, id, 60_000)));
      await eventually(ourNodes, (nodes) => nodes.length === 0, 60_000);
    }
    await sleep(2_000);
    await writeHistories(stack.temporal, 'node-autoscaler', nodeAutoscalerWorkflowId(stack.taskQueue));
    await writeHistories(stack.temporal, 'pool-echo-xl-kubernetes', poolWorkflowId(stack.taskQueue, 'echo-xl'));
  } finally {
    await stack.stop();
    await cluster.stop();
    await rm(clusterDir, { recursive: true, force: true });
  }
}

async function main() {
  if (existsSync(outDir))
    throw new Error(`${path.relative(root, outDir)} exists: histories are recorded once per commit`);
  await mkdir(outDir, { recursive: true });
  const services = await startRunServices({ testTools: false });
  try {
    await recordPoolsAndRequests(services);
    await recordAutoscaler(services);
  } finally {
    await services.stop();
  }
  log(`done: ${path.relative(root, outDir)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
