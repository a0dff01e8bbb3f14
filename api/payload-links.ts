import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Download links for payloads (`GET /api/payloads/{id}?expires=…&signature=…`), like
 * Replicate's file outputs: whoever holds one may download until it expires, no token needed.
 * The signature is an HMAC of the id and the expiry under PAYLOAD_URL_SECRET.
 */
export type PayloadLinks = {
  /** The signed path of a payload's download, valid for the configured time from now. */
  sign(id: string): { url: string; expiresAt: string };
  /** Whether a download's signature is this server's, for this id, and not expired. */
  verify(id: string, expires: unknown, signature: unknown): boolean;
};

export function payloadLinks(secret: string, ttlSeconds: number, now: () => number = Date.now): PayloadLinks {
  const mac = (id: string, expires: string) =>
    createHmac('sha256', secret).update(`${id}.${expires}`).digest('base64url');
  return {
    sign(id) {
      const expires = String(Math.floor(now() / 1000) + ttlSeconds);
      return {
        url: `/api/payloads/${id}?expires=${expires}&signature=${mac(id, expires)}`,
        expiresAt: new Date(Number(expires) * 1000).toISOString(),
      };
    },
    verify(id, expires, signature) {
      if (typeof expires !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(expires)) return false;
      if (Number(expires) * 1000 < now()) return false;
      const expected = Buffer.from(mac(id, expires));
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
