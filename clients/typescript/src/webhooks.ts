/** Headers as Node's http, fetch, or a framework gives them. */
export type IncomingHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: IncomingHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}

const hexBytes = (hex: string) =>
  /^([0-9a-f]{2})+$/i.test(hex) ? Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16)) : null;

/**
 * Whether `body` was signed by Podium with `secret` at most `toleranceSeconds` ago.
 *
 * `X-Podium-Signature` is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with one `v1`
 * per secret while one is being rotated: any may match. Pass the body exactly as it came (the
 * raw text or bytes), not parsed and stringified again. Web Crypto compares in constant time.
 */
export async function verifyWebhook(
  secret: string,
  headers: IncomingHeaders,
  body: string | Uint8Array,
  options: { toleranceSeconds?: number; now?: Date } = {},
): Promise<boolean> {
  const parts = (header(headers, 'x-podium-signature') ?? '').split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([name]) => name === 't').map(([, value]) => value ?? '');
  const signatures = parts.filter(([name]) => name === 'v1').map(([, value]) => hexBytes(value ?? ''));
  if (timestamps.length !== 1 || !/^\d+$/.test(timestamps[0]!) || signatures.length === 0) return false;
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (Math.abs(now - Number(timestamps[0])) > (options.toleranceSeconds ?? 300)) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${timestamps[0]}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  for (const signature of signatures) {
    if (signature && (await crypto.subtle.verify('HMAC', key, signature, signed))) return true;
  }
  return false;
}
