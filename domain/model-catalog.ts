import { z } from 'zod';

export const modelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'model ids are lower-case letters, digits and dashes');

/** A row of the `models` catalog: how to run the model and how it behaves. */
export const modelSpec = z.object({
  id: modelId,
  displayName: z.string(),
  description: z.string(),
  protocol: z.literal('oip-v2'),
  /** The name the model server serves it under (`/v2/models/{name}/infer`); the id unless set. */
  servedModelName: z.string(),
  /** argv run from the repository root by the local runtime; `node` means the project's Node. */
  localCommand: z.array(z.string()).min(1),
  containerImage: z.string(),
  containerPort: z.number().int(),
  resources: z.record(z.string(), z.string()),
  minInstances: z.number().int(),
  maxInstances: z.number().int(),
  keepWarmSeconds: z.number().int(),
  /** Requests one instance serves at once (KServe's containerConcurrency). */
  maxConcurrency: z.number().int(),
  startupTimeoutSeconds: z.number().int(),
  requestTimeoutSeconds: z.number().int(),
  /** Requests that may wait (REQUESTED) for the model at once; more are refused, 429 MODEL_QUEUE_FULL. */
  maxWaiting: z.number().int(),
});
export type ModelSpec = z.infer<typeof modelSpec>;

/** What `GET /api/models` shows: everything but the local process command. */
export function publicModelView(model: ModelSpec) {
  const { localCommand: _localCommand, ...view } = model;
  return view;
}
export type PublicModelView = ReturnType<typeof publicModelView>;
