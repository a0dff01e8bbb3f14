import { createHash, randomBytes } from 'node:crypto';

const prefixes = { access: 'pda_', refresh: 'pdr_' } as const;
export type TokenKind = keyof typeof prefixes;

/** A bearer token: 256 random bits behind a prefix that says what it is. Only its SHA-256 is stored. */
export function newToken(kind: TokenKind): string {
  return prefixes[kind] + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Shape check before any lookup, so garbage never reaches the cache or the database. */
export function looksLikeToken(token: string, kind: TokenKind): boolean {
  return token.startsWith(prefixes[kind]) && /^[A-Za-z0-9_-]{43}$/.test(token.slice(prefixes[kind].length));
}
