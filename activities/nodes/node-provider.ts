import type { NodeTypeSpec } from '../../domain/node-autoscaler';

/** Nodes added by the autoscaler carry this annotation, naming the autoscaler (its namespace). */
export const autoscalerOwnerAnnotation = 'podium.dev/autoscaler';

/**
 * …and this label: capacity added on demand, which model pods use only when the base nodes are
 * full (a soft preference in activities/runtime/kubernetes/pod-manifest.ts), so that an
 * expensive node added for a big model does not stay up for a small one. A label, not the
 * annotation, because node affinity reads labels only.
 */
export const extraCapacityLabel = { key: 'podium.dev/capacity', value: 'extra' } as const;

/**
 * Where nodes come from. Every call is idempotent, because an activity may run twice (a worker
 * killed mid-call): adding a name that exists, or removing one that is gone, does nothing.
 */
export interface NodeProvider {
  readonly kind: 'kwok' | 'cluster-api';
  /** Adds one node of `type` per name; `decisionId` identifies the decision asking for them. */
  addNodes(type: NodeTypeSpec, names: string[], decisionId: string): Promise<void>;
  removeNode(name: string): Promise<void>;
}
