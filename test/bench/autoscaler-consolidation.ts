// Benchmark (issue 19): what consolidation saves, on the simulated cluster (kwok nodes, the real
// kube-scheduler, the real pools). `npm run bench:autoscaler` runs it after its own parts;
// `npm run bench:autoscaler:consolidation` runs it alone (docs/node-autoscaling.md).
//
// One 10-minute trace, run twice (consolidation off, then on), BENCH_SPEEDUP (4) times faster
// than real time, every setting with a duration scaled alike:
//   0 s     a 20-CPU model gets one long request (only a cpu-xlarge node holds it: one is added);
//           two 3.5-CPU "filler" requests fill the two base cpu-small nodes;
//   15 s on a 1-CPU model gets a request every 2 s until the end: its pod finds the base nodes
//           full and lands on the xlarge node;
//   150 s   the big model and the fillers go quiet (their instances stop after keep-warm).
// From then on the xlarge node (1.36/h) holds only the small model's pod, which a base node
// could take. Cost: the added nodes' prices over their lifetimes. Lower bound: at each moment,
// the cheapest extra nodes that can hold the model pods running then (exact, by enumeration),
// integrated over the trace. Requests that did not complete are counted.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { sql } from 'slonik';
import { z } from 'zod';
import { keepWatching } from '../../activities/runtime/kubernetes/kubernetes-api';
import { parseQuantity } from '../../domain/quantity';
import type { AutoscalerSettings, NodeTypeSpec } from '../../domain/node-autoscaler';
import { ensureNodeAutoscaler } from '../../infra/node-autoscaler';
import { simulatedNodeTypes } from '../../infra/test-cluster/kwok-provider';
import { nodeAutoscalerWorkflowId, poolWorkflowId, stopPoolInstanceSignal } from '../../workflows/contracts';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { runBenchmark } from './run-benchmark';

const speedup = Number(process.env.BENCH_SPEEDUP ?? 4);
const traceSeconds = 600;
const busySeconds = 150;
const real = (traceSecondsOrMs: number) => traceSecondsOrMs / speedup;
const now = () => performance.timeOrigin + performance.now();
const baseCpu = 4; // each of the cluster's two base cpu-small nodes

/** The cheapest extra nodes holding `pods` (CPU each) beside the base nodes' room: exact, by enumeration. */
export function lowestExtraCost(pods: number[], types: NodeTypeSpec[]): number {
  const cpuTypes = types.filter((t) => t.capacity.gpu === 0).sort((a, b) => a.hourlyPrice - b.hourlyPrice);
  const bins = 2 + pods.length; // two base nodes, then at most one new node per pod
  let best = Infinity;
  const load = new Array<number>(bins).fill(0);
  const place = (i: number) => {
    if (i === pods.length) {
      let cost = 0;
      for (let b = 2; b < bins; b++) {
        if (load[b] === 0) continue;
        const type = cpuTypes.find((t) => t.capacity.cpu >= load[b]!);
        if (!type) return;
        cost += type.hourlyPrice;
      }
      best = Math.min(best, cost);
      return;
    }
    for (let b = 0; b < bins; b++) {
      if (b < 2 && load[b]! + pods[i]! > baseCpu) continue;
      load[b]! += pods[i]!;
      place(i + 1);
      load[b]! -= pods[i]!;
    }
  };
  place(0);
  return best;
}

type Run = {
  cost: number;
  lowerBound: number;
  failed: number;
  failures: string[];
  sent: number;
  xlargeGoneAt: number | null;
};

async function runTrace(stack: TestStack, label: string, consolidation: boolean): Promise<Run> {
  const { namespace, kubeConfig, core } = stack.kubernetes!;
  const settings: AutoscalerSettings = {
    ...stack.autoscaler!.settings,
    consolidation: { enabled: consolidation, utilisationThreshold: 0.5, maxNodesAtOnce: 1, cooldownMs: real(60_000) },
  };
  const handle = stack.temporal.workflow.getHandle(nodeAutoscalerWorkflowId(stack.taskQueue));
  await handle.terminate(`bench: ${label}`).catch(() => undefined);
  await ensureNodeAutoscaler(stack.temporal, stack.taskQueue, settings, 1_000);

  // What ran when: our nodes (ADDED → DELETED) and the model pods (bound → deleted), with their CPUs.
  const nodes = new Map<string, { price: number; from: number; to: number | null; type: string }>();
  const pods = new Map<string, { cpu: number; from: number; to: number | null }>();
  const watch = new Watch(kubeConfig);
  const stopNodes = keepWatching(watch, '/api/v1/nodes', {}, (type, node: V1Node) => {
    if (node.metadata?.annotations?.['podium.dev/autoscaler'] !== namespace) return;
    const name = node.metadata.name!;
    const nodeType = node.metadata.labels?.['node.kubernetes.io/instance-type'] ?? '';
    if (type === 'ADDED' && !nodes.has(name))
      nodes.set(name, {
        price: settings.nodeTypes.find((t) => t.name === nodeType)?.hourlyPrice ?? 0,
        from: now(),
        to: null,
        type: nodeType,
      });
    if (type === 'DELETED') nodes.get(name)!.to = now();
  });
  const stopPods = keepWatching(watch, `/api/v1/namespaces/${namespace}/pods`, {}, (type, pod: V1Pod) => {
    const name = pod.metadata!.name!;
    if (pod.spec?.nodeName && !pods.has(name))
      pods.set(name, {
        cpu: parseQuantity(pod.spec.containers[0]!.resources?.requests?.cpu ?? '0'),
        from: now(),
        to: null,
      });
    if ((type === 'DELETED' || pod.metadata?.deletionTimestamp) && pods.get(name)?.to === null)
      pods.get(name)!.to = now();
  });

  const suffix = consolidation ? 'on' : 'off';
  const keepWarmSeconds = Math.ceil(real(20));
  // Their requests last the busy phase (up to the echo model's 60 s), longer than the default 30 s timeout.
  const long = { keepWarmSeconds, startupTimeoutSeconds: 60, requestTimeoutSeconds: 120 };
  await addTestModel(stack.db, { id: `big-${suffix}`, resources: { cpu: '20', memory: '8Gi' }, ...long });
  await addTestModel(stack.db, {
    id: `filler-${suffix}`,
    resources: { cpu: '3500m', memory: '1Gi' },
    maxInstances: 2,
    ...long,
  });
  await addTestModel(stack.db, {
    id: `small-${suffix}`,
    resources: { cpu: '1', memory: '1Gi' },
    keepWarmSeconds: 3_600,
    startupTimeoutSeconds: 60,
  });
  const token = await stack.api.anonymousToken();
  const submit = async (model: string, delayMs = 0) =>
    (
      await stack.api.submit(token, {
        model,
        input: { ...echoInput, ...(delayMs ? { parameters: { delay_ms: delayMs } } : {}) },
      })
    ).body.id as string;

  const start = now();
  const held = Math.min(60_000, real(busySeconds * 1000));
  const sent = [
    await submit(`big-${suffix}`, held),
    await submit(`filler-${suffix}`, held),
    await submit(`filler-${suffix}`, held),
  ];
  await sleep(real(15_000)); // the xlarge node is up by then: the small model's pod lands on it
  while (now() - start < real(traceSeconds * 1000)) {
    sent.push(await submit(`small-${suffix}`));
    await sleep(real(2_000));
  }
  const end = now();
  const ended = await Promise.all(sent.map(async (id) => (await stack.api.waitUntilFinal(token, id, 150_000)).request));
  const failures = ended.filter((r) => r.status !== 'COMPLETE').map((r) => `${r.status} ${r.error?.code ?? ''}`.trim());
  stopNodes();
  stopPods();

  // Integrals over [start, end], in trace hours.
  const hours = (ms: number) => (ms * speedup) / 3_600_000;
  const clip = (from: number, to: number | null) => Math.max(0, Math.min(to ?? end, end) - Math.max(from, start));
  const cost = [...nodes.values()].reduce((sum, n) => sum + n.price * hours(clip(n.from, n.to)), 0);
  const changes = [...new Set([start, end, ...[...pods.values()].flatMap((p) => [p.from, p.to ?? end])])]
    .filter((t) => t >= start && t <= end)
    .sort((a, b) => a - b);
  let lowerBound = 0;
  for (let i = 0; i + 1 < changes.length; i++) {
    const at = (changes[i]! + changes[i + 1]!) / 2;
    const running = [...pods.values()].filter((p) => p.from <= at && (p.to ?? end) > at).map((p) => p.cpu);
    lowerBound += lowestExtraCost(running, settings.nodeTypes) * hours(changes[i + 1]! - changes[i]!);
  }
  const xlarge = [...nodes.values()].find((n) => n.type === 'cpu-xlarge' && n.from >= start);
  // Leave the cluster as found for the next run: the small model's instance stopped, our nodes gone.
  const live = await stack.db.anyFirst(
    sql.type(
      z.object({ id: z.string() }),
    )`SELECT id FROM model_instances WHERE model_id = ${`small-${suffix}`} AND status <> 'TERMINATED'`,
  );
  for (const instanceId of live)
    await stack.temporal.workflow
      .getHandle(poolWorkflowId(stack.taskQueue, `small-${suffix}`))
      .signal(stopPoolInstanceSignal, { instanceId, reason: 'bench over' });
  const ours = async () =>
    (await core.listNode()).items.filter((n) => n.metadata?.annotations?.['podium.dev/autoscaler'] === namespace)
      .length;
  if ((await eventually(ours, (n) => n === 0, 120_000)) > 0)
    throw new Error(`${label}: the added nodes did not go after the trace`);
  return {
    cost,
    lowerBound,
    sent: sent.length,
    failed: failures.length,
    failures,
    xlargeGoneAt: xlarge?.to ? ((xlarge.to - start) * speedup) / 1000 : null,
  };
}

async function benchmark(stack: TestStack) {
  const off = await runTrace(stack, 'consolidation off', false);
  const on = await runTrace(stack, 'consolidation on', true);
  console.log(
    `\nConsolidation: a ${traceSeconds} s trace (run ${speedup}× faster), cost of the added nodes in $ over the trace`,
  );
  console.table(
    [
      ['off', off],
      ['on', on],
    ].map(([name, r]) => {
      const run = r as Run;
      return {
        consolidation: name,
        cost: run.cost.toFixed(4),
        'lower bound': run.lowerBound.toFixed(4),
        'cost / bound': (run.cost / run.lowerBound).toFixed(3),
        'xlarge removed at (trace s)': run.xlargeGoneAt?.toFixed(0) ?? 'kept',
        requests: run.sent,
        'not completed': run.failed,
      };
    }),
  );
  const ratio = on.cost / on.lowerBound;
  console.log(
    `target: with consolidation, cost ≤ 1.10 × lower bound: ${ratio <= 1.1 ? 'met' : 'NOT met'} (×${ratio.toFixed(3)}; without: ×${(off.cost / off.lowerBound).toFixed(3)})`,
  );
  console.log(
    `target: 0 requests failed or interrupted: ${on.failed + off.failed === 0 ? 'met' : 'NOT met'} (${on.failed} with, ${off.failed} without)`,
  );
  for (const [name, run] of [
    ['off', off],
    ['on', on],
  ] as const)
    if (run.failures.length > 0) console.log(`  not completed (${name}): ${run.failures.join(', ')}`);
}

const settings: Partial<AutoscalerSettings> = {
  nodeTypes: simulatedNodeTypes,
  minNodeLifetimeMs: real(60_000),
  scaleDownDelayMs: real(30_000),
  batchWindowMs: 100,
};
runBenchmark(benchmark, { kubernetes: true, autoscaler: settings });
