/**
 * The node autoscaler's decision: a pure function from what the cluster looks like now (and a
 * little memory of earlier rounds) to a plan. No I/O, no clock: `now` comes in the snapshot.
 * See docs/node-autoscaling.md.
 */

export type Resources = { cpu: number; memory: number; gpu: number; pods: number };
const resourceNames = ['cpu', 'memory', 'gpu', 'pods'] as const;

export type NodeTypeSpec = { name: string; capacity: Resources; hourlyPrice: number; maxNodes: number };

export type NodeView = {
  name: string;
  /** The node type (instance-type label); null for nodes the autoscaler does not know. */
  type: string | null;
  /** Added by this autoscaler (so it may remove it). */
  managed: boolean;
  ready: boolean;
  cordoned: boolean;
  createdAt: number;
  allocatable: Resources;
  /** What the pods bound to it request. */
  requested: Resources;
  /** Model pods bound to it (any phase but Succeeded/Failed). */
  modelPods: number;
  /** Other pods bound to it that are not DaemonSet pods: never removed from under them either. */
  otherPods: number;
  /** Its model pods one by one (snapshots from before consolidation lack it: no node is consolidated then). */
  modelPodList?: Array<{ name: string; requests: Resources; ready: boolean }>;
};

export type PendingPod = {
  name: string;
  requests: Resources;
  /** When the scheduler first said it could not place it. */
  unschedulableSince: number;
};

export type Snapshot = { now: number; nodes: NodeView[]; pending: PendingPod[] };

export type AutoscalerSettings = {
  nodeTypes: NodeTypeSpec[];
  maxNodesTotal: number;
  /** Act once no new pending pod has appeared for this long (more may be on their way)… */
  batchWindowMs: number;
  /** …but never wait longer than this after the first one. */
  batchMaxMs: number;
  /** A managed node not Ready this long after creation is given up on and removed. */
  provisioningTimeoutMs: number;
  /** A node is never removed younger than this (churn). */
  minNodeLifetimeMs: number;
  /** A node must have been empty this long before it is cordoned. */
  scaleDownDelayMs: number;
  /** Moving the pods off an added node that other, cheaper nodes can take (absent: off, as in runs started before it). */
  consolidation?: ConsolidationSettings;
};

export type ConsolidationSettings = {
  enabled: boolean;
  /** Only nodes this full or less (the larger of CPU and memory requested over allocatable, 0–1). */
  utilisationThreshold: number;
  /** At most this many nodes being emptied at once (the disruption budget). */
  maxNodesAtOnce: number;
  /** Between one consolidation and the next; a consolidated node is not uncordoned within it. */
  cooldownMs: number;
};

/**
 * Carried from round to round (and across continue-as-new): since when each node has been
 * empty, and when each pending pod was first seen (the scheduler's own timestamps are whole
 * seconds, too coarse for a 200 ms batch window).
 */
export type AutoscalerMemory = {
  emptySince: Record<string, number>;
  pendingSince?: Record<string, number>;
  /** The nodes being consolidated and when each began (they are not uncordoned meanwhile). */
  consolidating?: Record<string, number>;
};

export type AutoscalerAction =
  | { type: 'ADD_NODES'; nodeType: string; count: number; forPods: string[] }
  | { type: 'UNCORDON'; node: string }
  | { type: 'CORDON'; node: string }
  | { type: 'REMOVE_NODE'; node: string; why: 'EMPTY' | 'PROVISIONING_TIMEOUT' }
  /** Cordon the node and have each of its model pods' pools replace them (no request interrupted); it goes once empty. */
  | { type: 'CONSOLIDATE'; node: string; pods: string[] };

export type AutoscalerPlan = {
  actions: AutoscalerAction[];
  /** Why, in words, including why nothing was done. */
  reasons: string[];
  /** When to look again even without a signal (a batch window or a delay running out). */
  wakeAt: number | null;
  memory: AutoscalerMemory;
};

const gpuTaintFree = (type: NodeTypeSpec) => type.capacity.gpu === 0;

function fits(requests: Resources, free: Resources): boolean {
  return resourceNames.every((r) => requests[r] <= free[r] + 1e-9);
}

function minus(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu - b.cpu, memory: a.memory - b.memory, gpu: a.gpu - b.gpu, pods: a.pods - b.pods };
}

/** First fit decreasing's order: GPU, then CPU, then memory, largest first. */
const largestFirst = (a: { requests: Resources }, b: { requests: Resources }) =>
  b.requests.gpu - a.requests.gpu || b.requests.cpu - a.requests.cpu || b.requests.memory - a.requests.memory;

/** GPU pods go only to GPU nodes, and others never to them (GPU nodes are tainted). */
const sameKind = (requests: Resources, capacity: Resources) => requests.gpu > 0 === capacity.gpu > 0;

/** Which node types a pod may go to: GPU pods to GPU types; others only to types without GPUs (GPU nodes are tainted). */
function typesFor(pod: PendingPod, types: NodeTypeSpec[]): NodeTypeSpec[] {
  return types.filter(
    (t) => (pod.requests.gpu > 0 ? t.capacity.gpu > 0 : gpuTaintFree(t)) && fits(pod.requests, t.capacity),
  );
}

/** How many nodes of one type first-fit decreasing needs for these pods. Pure. */
function nodesNeeded(pods: PendingPod[], type: NodeTypeSpec): number {
  const open: Resources[] = [];
  for (const pod of pods) {
    const node = open.findIndex((free) => fits(pod.requests, free));
    if (node >= 0) open[node] = minus(open[node]!, pod.requests);
    else open.push(minus(type.capacity, pod.requests));
  }
  return open.length;
}

/**
 * First-fit decreasing onto new nodes. For GPU pods and for the others separately, the preferred
 * node type is the one whose packing of all of them costs least (price × nodes needed), so a
 * burst gets large nodes and a single small pod a small one; pods it cannot take, or nodes past
 * its maximum, go to the next cheapest type that fits.
 */
function packNewNodes(
  pods: PendingPod[],
  settings: AutoscalerSettings,
  existingByType: Map<string, number>,
  existingTotal: number,
) {
  const open: Array<{ type: NodeTypeSpec; free: Resources; pods: string[] }> = [];
  const unplaced: Array<{ pod: PendingPod; why: string }> = [];
  const count = (type: string) => (existingByType.get(type) ?? 0) + open.filter((n) => n.type.name === type).length;
  const sorted = [...pods].sort(largestFirst);
  const preferred = new Map<boolean, NodeTypeSpec[]>();
  for (const gpu of [true, false]) {
    const group = sorted.filter((p) => p.requests.gpu > 0 === gpu);
    const cost = (type: NodeTypeSpec) => {
      const fitting = group.filter((p) => typesFor(p, [type]).length > 0);
      // Types that leave pods out rank after those that take them all.
      return (group.length - fitting.length) * 1e6 + nodesNeeded(fitting, type) * type.hourlyPrice;
    };
    const ranked = settings.nodeTypes
      .filter((t) => (gpu ? t.capacity.gpu > 0 : gpuTaintFree(t)))
      .map((t) => ({ t, c: cost(t) }));
    preferred.set(
      gpu,
      ranked.sort((a, b) => a.c - b.c || a.t.hourlyPrice - b.t.hourlyPrice).map(({ t }) => t),
    );
  }
  for (const pod of sorted) {
    // Only onto a new node of the pod's kind: GPU pods with GPU nodes, others never on them (tainted).
    const node = open.find((n) => fits(pod.requests, n.free) && sameKind(pod.requests, n.type.capacity));
    if (node) {
      node.free = minus(node.free, pod.requests);
      node.pods.push(pod.name);
      continue;
    }
    const candidates = preferred.get(pod.requests.gpu > 0)!.filter((t) => fits(pod.requests, t.capacity));
    if (candidates.length === 0) {
      unplaced.push({ pod, why: `no node type can hold pod ${pod.name}` });
      continue;
    }
    const totalReached = existingTotal + open.length >= settings.maxNodesTotal;
    const type = totalReached ? undefined : candidates.find((t) => count(t.name) < t.maxNodes);
    if (!type) {
      unplaced.push({
        pod,
        why: totalReached
          ? `max nodes in total reached (${settings.maxNodesTotal}): pod ${pod.name} stays pending`
          : `max nodes reached for ${candidates.map((t) => `${t.name} (${t.maxNodes})`).join(', ')}: pod ${pod.name} stays pending`,
      });
      continue;
    }
    open.push({ type, free: minus(type.capacity, pod.requests), pods: [pod.name] });
  }
  return { open, unplaced };
}

export function decide(snapshot: Snapshot, settings: AutoscalerSettings, memory: AutoscalerMemory): AutoscalerPlan {
  const plan: PlanSoFar = { actions: [], reasons: [], wakeAts: [] };
  const nodes = giveUpOnNodesThatNeverCame(plan, snapshot, settings);
  const consolidating = stillConsolidating(snapshot, nodes, settings, memory);
  const { uncordoned, pendingSince } = planScaleUp(plan, snapshot, nodes, settings, memory, consolidating);
  const emptySince = planScaleDown(plan, snapshot, nodes, settings, memory, uncordoned);
  planConsolidation(plan, snapshot, nodes, settings, consolidating);
  if (plan.actions.length === 0 && plan.reasons.length === 0)
    plan.reasons.push('nothing to do: no pending pods, no removable nodes');
  const { actions, reasons, wakeAts } = plan;
  const memoryOut: AutoscalerMemory = {
    emptySince,
    pendingSince,
    ...(settings.consolidation ? { consolidating } : {}),
  };
  return { actions, reasons, wakeAt: wakeAts.length > 0 ? Math.min(...wakeAts) : null, memory: memoryOut };
}

/** What a round has decided so far, each step adding to it in turn (the order is the record's). */
type PlanSoFar = { actions: AutoscalerAction[]; reasons: string[]; wakeAts: number[] };

/** Nodes we asked for that never came up are given up on; the rest (still coming ones too) count. */
function giveUpOnNodesThatNeverCame(plan: PlanSoFar, snapshot: Snapshot, settings: AutoscalerSettings): NodeView[] {
  const timedOut = snapshot.nodes.filter(
    (n) => n.managed && !n.ready && snapshot.now - n.createdAt >= settings.provisioningTimeoutMs,
  );
  for (const node of timedOut) {
    plan.actions.push({ type: 'REMOVE_NODE', node: node.name, why: 'PROVISIONING_TIMEOUT' });
    plan.reasons.push(
      `node ${node.name} was not Ready ${settings.provisioningTimeoutMs / 1000} s after it was added: removing it`,
    );
  }
  return snapshot.nodes.filter((n) => !timedOut.includes(n));
}

/**
 * Scale up: pending pods wait out the batch window, then go onto capacity on the way, onto
 * cordoned nodes (which are uncordoned) and finally onto new nodes, cheapest packing first.
 */
function planScaleUp(
  plan: PlanSoFar,
  snapshot: Snapshot,
  nodes: NodeView[],
  settings: AutoscalerSettings,
  memory: AutoscalerMemory,
  consolidating: Record<string, number>,
) {
  const { now } = snapshot;
  const free = new Map(nodes.map((n) => [n.name, minus(n.allocatable, n.requested)]));
  let waiting = [...snapshot.pending];
  const pendingSince: Record<string, number> = {};
  for (const pod of waiting) pendingSince[pod.name] = memory.pendingSince?.[pod.name] ?? now;
  if (waiting.length > 0) {
    const seen = waiting.map((p) => pendingSince[p.name]!);
    const [oldest, newest] = [Math.min(...seen), Math.max(...seen)];
    const stillArriving = now - newest < settings.batchWindowMs && now - oldest < settings.batchMaxMs;
    if (stillArriving) {
      const at = Math.min(newest + settings.batchWindowMs, oldest + settings.batchMaxMs);
      plan.wakeAts.push(at);
      plan.reasons.push(`${waiting.length} pending pod(s): waiting ${at - now} ms for more to batch with`);
      waiting = [];
    }
  }
  // Capacity on the way (nodes not Ready yet) and on cordoned nodes is used before new nodes.
  const place = (candidates: NodeView[], onPlace: (node: NodeView) => void) => {
    waiting = waiting.filter((pod) => {
      // GPU pods only on GPU nodes; other pods never on them (GPU nodes are tainted).
      const node = candidates.find(
        (n) => fits(pod.requests, free.get(n.name)!) && sameKind(pod.requests, n.allocatable),
      );
      if (!node) return true;
      free.set(node.name, minus(free.get(node.name)!, pod.requests));
      onPlace(node);
      return false;
    });
  };
  // Nodes still starting, and nodes this autoscaler added recently: the scheduler places the
  // pods meant for them a moment after they are Ready, and until then those pods still look
  // Unschedulable. Counting them as free capacity is what keeps one burst from adding twice.
  const coming = nodes.filter(
    (n) => !n.cordoned && (!n.ready || (n.managed && now - n.createdAt < settings.provisioningTimeoutMs)),
  );
  const beforeComing = waiting.length;
  place(coming, () => undefined);
  if (beforeComing > waiting.length)
    plan.reasons.push(`${beforeComing - waiting.length} pending pod(s) will fit on nodes just added or still starting`);
  const uncordoned = new Set<string>();
  // A node being emptied on purpose is not filled again (its pods' replacements fit elsewhere).
  place(
    nodes.filter((n) => n.ready && n.cordoned && !(n.name in consolidating)),
    (node) => uncordoned.add(node.name),
  );
  for (const node of uncordoned) {
    plan.actions.push({ type: 'UNCORDON', node });
    plan.reasons.push(`uncordoning ${node}: pending pods fit on it`);
  }
  if (waiting.length > 0) addNodesFor(plan, waiting, nodes, settings);
  return { uncordoned, pendingSince };
}

/** New nodes for the pods nothing else can take, one ADD_NODES action per node type. */
function addNodesFor(plan: PlanSoFar, waiting: PendingPod[], nodes: NodeView[], settings: AutoscalerSettings) {
  const byType = new Map<string, number>();
  for (const n of nodes) if (n.type) byType.set(n.type, (byType.get(n.type) ?? 0) + 1);
  const { open, unplaced } = packNewNodes(waiting, settings, byType, nodes.length);
  const grouped = new Map<string, { count: number; pods: string[] }>();
  for (const node of open) {
    const group = grouped.get(node.type.name) ?? { count: 0, pods: [] };
    group.count++;
    group.pods.push(...node.pods);
    grouped.set(node.type.name, group);
  }
  for (const [nodeType, group] of grouped) {
    plan.actions.push({ type: 'ADD_NODES', nodeType, count: group.count, forPods: group.pods });
    plan.reasons.push(`adding ${group.count} ${nodeType} node(s) for ${group.pods.length} pending pod(s)`);
  }
  for (const { why } of unplaced) plan.reasons.push(why);
}

/**
 * Scale down: an added node empty past the scale-down delay (and older than its minimum
 * lifetime) is cordoned, and removed the round after if still empty; none while pods pend.
 */
function planScaleDown(
  plan: PlanSoFar,
  snapshot: Snapshot,
  nodes: NodeView[],
  settings: AutoscalerSettings,
  memory: AutoscalerMemory,
  uncordoned: Set<string>,
): Record<string, number> {
  const { now } = snapshot;
  const emptySince: Record<string, number> = {};
  const scalingUp = snapshot.pending.length > 0;
  for (const node of nodes) {
    const empty = node.modelPods === 0 && node.otherPods === 0;
    if (!empty) continue;
    emptySince[node.name] = memory.emptySince[node.name] ?? now;
    if (!node.managed || !node.ready || uncordoned.has(node.name)) continue;
    if (node.cordoned) {
      plan.actions.push({ type: 'REMOVE_NODE', node: node.name, why: 'EMPTY' });
      plan.reasons.push(`removing ${node.name}: cordoned and empty`);
      continue;
    }
    if (scalingUp) continue; // an empty node may be what a pending pod is about to use
    const oldEnough = now - node.createdAt >= settings.minNodeLifetimeMs;
    const emptyLongEnough = now - emptySince[node.name]! >= settings.scaleDownDelayMs;
    if (oldEnough && emptyLongEnough) {
      plan.actions.push({ type: 'CORDON', node: node.name });
      plan.reasons.push(
        `cordoning ${node.name}: no model pod for ${Math.round((now - emptySince[node.name]!) / 1000)} s`,
      );
    } else {
      const at = Math.max(
        node.createdAt + settings.minNodeLifetimeMs,
        emptySince[node.name]! + settings.scaleDownDelayMs,
      );
      plan.wakeAts.push(at);
      plan.reasons.push(
        `keeping empty ${node.name} until ${oldEnough ? 'the scale-down delay' : 'its minimum lifetime'} has passed`,
      );
    }
  }
  return emptySince;
}

/** The consolidations still under way: nodes still there, cordoned, within the cooldown since they began. */
function stillConsolidating(
  snapshot: Snapshot,
  nodes: NodeView[],
  settings: AutoscalerSettings,
  memory: AutoscalerMemory,
): Record<string, number> {
  const cooldownMs = settings.consolidation?.cooldownMs ?? 0;
  const kept: Record<string, number> = {};
  for (const [name, since] of Object.entries(memory.consolidating ?? {})) {
    const node = nodes.find((n) => n.name === name);
    if (node?.cordoned && snapshot.now - since < cooldownMs) kept[name] = since;
  }
  return kept;
}

const priceOf = (node: NodeView, settings: AutoscalerSettings) =>
  settings.nodeTypes.find((t) => t.name === node.type)?.hourlyPrice ?? 0;
const utilisation = (node: NodeView) =>
  Math.max(
    node.allocatable.cpu > 0 ? node.requested.cpu / node.allocatable.cpu : 1,
    node.allocatable.memory > 0 ? node.requested.memory / node.allocatable.memory : 1,
  );

/**
 * Consolidation (Karpenter's WhenUnderutilized, Cluster Autoscaler's utilisation threshold): an
 * added node, no fuller than the threshold, whose model pods (all ready, nothing else on it) fit
 * on other ready nodes that each cost less per hour is emptied: cordoned, its pods replaced by
 * their pools (a replacement first, no request interrupted), and removed once empty by
 * planScaleDown. The most expensive first, within the disruption budget and the cooldown; never
 * while pods pend (the capacity may be what they need).
 */
function planConsolidation(
  plan: PlanSoFar,
  snapshot: Snapshot,
  nodes: NodeView[],
  settings: AutoscalerSettings,
  consolidating: Record<string, number>,
) {
  const rules = settings.consolidation;
  if (!rules?.enabled || snapshot.pending.length > 0) return;
  const { now } = snapshot;
  const started = Object.values(consolidating);
  const lastStarted = started.length > 0 ? Math.max(...started) : null;
  const underWay = nodes.filter((n) => n.managed && n.cordoned && n.modelPods > 0).length;
  const candidates = nodes
    .filter((n) => n.managed && n.ready && !n.cordoned && n.otherPods === 0 && n.modelPods > 0)
    .filter((n) => n.modelPodList?.length === n.modelPods && n.modelPodList.every((p) => p.ready))
    .filter((n) => now - n.createdAt >= settings.minNodeLifetimeMs && utilisation(n) <= rules.utilisationThreshold)
    .sort((a, b) => priceOf(b, settings) - priceOf(a, settings) || a.name.localeCompare(b.name));
  if (candidates.length === 0) return;
  if (lastStarted !== null && now - lastStarted < rules.cooldownMs) {
    plan.wakeAts.push(lastStarted + rules.cooldownMs);
    plan.reasons.push(
      `consolidation cooling down until ${Math.round((lastStarted + rules.cooldownMs - now) / 1000)} s from now`,
    );
    return;
  }
  if (rules.maxNodesAtOnce - underWay <= 0) {
    plan.reasons.push(`not consolidating ${candidates[0]!.name}: ${rules.maxNodesAtOnce} node(s) at most at once`);
    return;
  }
  // One a round, the first whose pods all fit (first fit decreasing) on nodes that cost less:
  // the next round sees the cluster as this one left it.
  for (const node of candidates) {
    const price = priceOf(node, settings);
    const targets = nodes.filter(
      (n) =>
        n.name !== node.name && n.ready && !n.cordoned && !(n.name in consolidating) && priceOf(n, settings) < price,
    );
    const free = new Map(targets.map((n) => [n.name, minus(n.allocatable, n.requested)]));
    const pods = [...node.modelPodList!].sort(largestFirst);
    const moves = pods.map((pod) => {
      const target = targets.find(
        (n) => fits(pod.requests, free.get(n.name)!) && sameKind(pod.requests, n.allocatable),
      );
      if (target) free.set(target.name, minus(free.get(target.name)!, pod.requests));
      return target?.name;
    });
    if (moves.includes(undefined)) continue;
    consolidating[node.name] = now;
    plan.actions.push({ type: 'CONSOLIDATE', node: node.name, pods: pods.map((p) => p.name) });
    plan.reasons.push(
      `consolidating ${node.name} (${node.type ?? 'unknown type'}, ${price}/h, ${Math.round(utilisation(node) * 100)} % used): ` +
        `its ${pods.length} model pod(s) fit on ${[...new Set(moves)].join(', ')}, which cost less`,
    );
    return;
  }
}
