import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'x-podium-signature';

const mac = (secret: string, body: string, timestampSeconds: number) =>
  createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe-style receivers expect:
 * the timestamp is signed too, so a captured delivery cannot be replayed later unnoticed. With
 * several secrets (an owner's, through a rotation), one `v1` each: a receiver that knows either
 * secret verifies the delivery.
 */
export function signWebhook(secrets: string | readonly string[], body: string, timestampSeconds: number): string {
  const signatures = (typeof secrets === 'string' ? [secrets] : secrets).map(
    (secret) => `v1=${mac(secret, body, timestampSeconds)}`,
  );
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}

/** For receivers (and tests): one of the signatures is right for `secret`, and at most `toleranceSeconds` old. */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = header.split(',').map((part) => part.split('=') as [string, string | undefined]);
  const timestamp = Number(parts.find(([name]) => name === 't')?.[1]);
  const given = parts
    .filter(([name, value]) => name === 'v1' && value !== undefined)
    .map(([, value]) => Buffer.from(value!, 'hex'));
  if (!Number.isInteger(timestamp) || given.length === 0 || Math.abs(nowSeconds - timestamp) > toleranceSeconds)
    return false;
  const expected = Buffer.from(mac(secret, body, timestamp), 'hex');
  return given.some((signature) => signature.length === expected.length && timingSafeEqual(signature, expected));
}
