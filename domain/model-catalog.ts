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

/**
 * What an admin registers a model with (`PUT /api/admin/models/:id`): the catalog row but its id,
 * with defaults a newcomer will not trip on (a minute of keep-warm, one instance, one request at
 * a time, a minute to start and to answer).
 */
export const modelSettings = z
  .strictObject({
    displayName: z.string().min(1).max(100),
    description: z.string().max(2_000).default(''),
    servedModelName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, dots, dashes and underscores, as model servers name models')
      .optional()
      .describe('the name the model server serves it under; the id when absent'),
    localCommand: z.array(z.string().min(1).max(4_096)).min(1).max(64).describe('argv run from the repository root by the local runtime'),
    containerImage: z.string().min(1).max(512),
    containerPort: z.number().int().min(1).max(65_535).default(8080),
    resources: z.record(z.string().min(1).max(64), z.string().min(1).max(64)).default({ cpu: '100m', memory: '128Mi' }),
    minInstances: z.number().int().min(0).max(100).default(0),
    maxInstances: z.number().int().min(1).max(100).default(1),
    keepWarmSeconds: z.number().int().min(0).max(86_400).default(60),
    maxConcurrency: z.number().int().min(1).max(1_000).default(1),
    startupTimeoutSeconds: z.number().int().min(1).max(3_600).default(60),
    requestTimeoutSeconds: z.number().int().min(1).max(3_600).default(60),
    maxWaiting: z.number().int().min(1).max(100_000).default(1_000),
  })
  .refine((settings) => settings.minInstances <= settings.maxInstances, {
    path: ['minInstances'],
    message: 'must not be more than maxInstances',
  });
export type ModelSettings = z.infer<typeof modelSettings>;
