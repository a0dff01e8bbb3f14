import { createHash, randomBytes } from 'node:crypto';

const tokenPrefix = 'pdm_';

/** A bearer token: 256 random bits. Only its SHA-256 hash is ever stored. */
export function newSessionToken(): string {
  return tokenPrefix + randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function looksLikeSessionToken(token: string): boolean {
  return token.startsWith(tokenPrefix) && /^[A-Za-z0-9_-]{43}$/.test(token.slice(tokenPrefix.length));
}
