import { z } from 'zod';

/** One round of the autoscaler as recorded (autoscaler_decisions) and shown to admins. */
export const autoscalerDecision = z.object({
  decisionId: z.string(),
  decidedAt: z.string(),
  actedAt: z.string().nullable(),
  pendingPods: z.number(),
  nodes: z.number(),
  actions: z.array(z.record(z.string(), z.unknown())),
  reasons: z.array(z.string()),
  results: z.array(z.string()),
});
export type AutoscalerDecision = z.infer<typeof autoscalerDecision>;
