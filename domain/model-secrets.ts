import { z } from 'zod';

/**
 * Where a model's secret is, instead of the secret itself (issue 31): a key of a Kubernetes
 * Secret in the models' namespace (`containerEnv`), which the kubelet reads, or a secret of
 * the worker (`env`, the local runtime), read from its environment as
 * `PODIUM_MODEL_SECRET_<NAME>` when the process starts. The catalog, its audit rows and the
 * admin pages then hold only the reference.
 */
export const secretKeyRef = z.strictObject({
  secretKeyRef: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Kubernetes Secret name'),
    key: z.string().regex(/^[-._a-zA-Z0-9]{1,253}$/, 'a key of the Secret'),
  }),
});
export type SecretKeyRef = z.infer<typeof secretKeyRef>;

export const workerSecretRef = z.strictObject({
  secret: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
});
export type WorkerSecretRef = z.infer<typeof workerSecretRef>;

/** The worker's environment variable that holds a secret the local runtime passes on. */
export const workerSecretVariable = ({ secret }: WorkerSecretRef) =>
  `PODIUM_MODEL_SECRET_${secret.toUpperCase().replaceAll('-', '_')}`;

/** What stands for a literal value an API read does not show; a write that sends it back keeps the stored value. */
export const redactedValue = '[redacted]';

/** Names whose literal values are taken for secrets: shown as `[redacted]`, never audited. */
const secretLooking = /(SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|AUTH)/i;
export const looksSecret = (name: string) => secretLooking.test(name);

type Environment = Record<string, string | object>;

/** The environment as a read shows it: references as they are, secret-looking literal values as `[redacted]`. */
export function redactedEnvironment<E extends Environment>(env: E): E {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      typeof value === 'string' && looksSecret(name) ? redactedValue : value,
    ]),
  ) as E;
}

/** The environment as an audit row keeps it: references as they are, every literal value as `[redacted]`. */
export function auditedEnvironment<E extends Environment>(env: E): E {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, typeof value === 'string' ? redactedValue : value]),
  ) as E;
}

/**
 * A written environment with every `[redacted]` put back to the value stored under its name, so
 * that what a read showed can be written back unchanged. Names that have no stored value.
 */
export function restoredEnvironment<E extends Environment>(
  written: E,
  stored: Environment | undefined,
): { env: E; missing: string[] } {
  const missing: string[] = [];
  const env = Object.fromEntries(
    Object.entries(written).map(([name, value]) => {
      if (value !== redactedValue) return [name, value];
      const kept = stored?.[name];
      if (kept === undefined) missing.push(name);
      return [name, kept ?? value];
    }),
  ) as E;
  return { env, missing };
}
