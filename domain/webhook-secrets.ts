import { z } from 'zod';

/** How long a replaced secret keeps signing beside the new one: a day unless told, at most a week. */
export const webhookSecretRotation = z.strictObject({
  previousValidForSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
});

/** A secret as a list shows it: never the secret, a hint to tell it apart. */
export const webhookSecretView = z.object({
  id: z.uuid(),
  hint: z.string().describe('the first characters of the secret'),
  current: z.boolean().describe('signs every delivery; the others only until expiresAt'),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
});
export type WebhookSecretView = z.infer<typeof webhookSecretView>;

/** What rotating answers, once: the new secret itself. */
export const newWebhookSecret = webhookSecretView.extend({ secret: z.string() });
