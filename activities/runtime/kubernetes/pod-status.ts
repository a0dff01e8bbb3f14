import type { V1Pod } from '@kubernetes/client-node';

export type PodReadiness = {
  phase: string;
  node: string | null;
  ready: boolean;
  /** Why the pod is not ready yet, when Kubernetes says. */
  waiting: { reason: string; message: string } | null;
  /** The pod can never become ready (it failed, or its image name is invalid). */
  fatal: boolean;
};

/** Reasons a container waits on that no amount of waiting fixes. */
const fatalWaitingReasons = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError']);

/** Reads what matters for an instance out of a pod's status. Pure. */
export function podReadiness(pod: V1Pod): PodReadiness {
  const conditions = pod.status?.conditions ?? [];
  const condition = (type: string) => conditions.find((c) => c.type === type);
  const phase = pod.status?.phase ?? 'Pending';
  const ready = condition('Ready')?.status === 'True';
  const scheduled = condition('PodScheduled');
  const containerWaiting = (pod.status?.containerStatuses ?? []).map((s) => s.state?.waiting).find((w) => w?.reason);

  let waiting: PodReadiness['waiting'] = null;
  if (scheduled?.status === 'False' && scheduled.reason) {
    waiting = { reason: scheduled.reason, message: scheduled.message ?? '' };
  } else if (containerWaiting && containerWaiting.reason !== 'ContainerCreating') {
    waiting = { reason: containerWaiting.reason!, message: containerWaiting.message ?? '' };
  }
  return {
    phase,
    node: pod.spec?.nodeName ?? null,
    ready,
    waiting,
    fatal: phase === 'Failed' || phase === 'Succeeded' || (waiting !== null && fatalWaitingReasons.has(waiting.reason)),
  };
}
