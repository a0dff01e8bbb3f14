export { cleanupOldRequests } from './cleanup';
export { modelPool } from './model-pool';
export { modelRequest } from './model-request';
export { describeLiveInstances } from './live-instances';
export { nodeAutoscaler } from './node-autoscaler';
export { requestReconciler } from './request-reconciler';
