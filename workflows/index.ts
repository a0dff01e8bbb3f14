export { cleanupOldRequests } from './cleanup';
export { modelPool } from './model-pool';
// The work request workflow keeps the name it was first registered under: every recorded
// history carries it, so another name would be another workflow type (docs/workflow-changes.md).
export { workRequest as modelRequest } from './work-request';
export { modelRequest2 } from './model-request2';
export { describeLiveInstances } from './live-instances';
export { nodeAutoscaler } from './node-autoscaler';
export { requestReconciler } from './request-reconciler';
