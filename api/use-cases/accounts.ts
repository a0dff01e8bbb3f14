import { createHash, randomUUID } from 'node:crypto';
import type { DatabasePool } from 'slonik';
import {
  createUserSession,
  lockRefreshToken,
  revokeSession,
  rotateRefreshToken,
  type IssuedTokens,
} from '../../db/sessions';
import { DuplicateAccountError, findUserForLogin, findUserView, insertUser } from '../../db/users';
import { loginIdentifier, signupIssues, type LoginBody, type SignupBody, type UserView } from '../../domain/accounts';
import { decideRefresh, refreshTtlSeconds } from '../../domain/refresh-decision';
import { ApiError } from '../http/errors';
import type { LoginRateLimit } from '../auth/login-rate-limit';
import { hashPassword, isCommonPassword, verifyPassword } from '../auth/passwords';
import { hashToken, newToken } from '../auth/session-tokens';

export type TokenSettings = {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  /** SESSION_MAX_LIFETIME_SECONDS: no refresh carries a session past it. */
  maxSessionSeconds: number;
  reuseGraceSeconds: number;
  secureCookies: boolean;
};

/** A fresh access and refresh token, and the hashes (with lifetimes) the database keeps of them. */
export type TokenPair = ReturnType<typeof newTokenPair>;

function newTokenPair(tokens: TokenSettings) {
  const access = newToken('access');
  const refresh = newToken('refresh');
  return {
    access,
    refresh,
    hashes: {
      access: { hash: hashToken(access), ttlSeconds: tokens.accessTtlSeconds },
      refresh: { hash: hashToken(refresh), ttlSeconds: Math.min(tokens.refreshTtlSeconds, tokens.maxSessionSeconds) },
    },
  };
}

/** A signed-in session: whose it is, its tokens, and when they expire. */
export type SignedIn = { user: UserView; pair: TokenPair; issued: IssuedTokens };

type AccountDeps = { db: DatabasePool; tokens: TokenSettings };

/** A new account (no permissions) and its first session, in one transaction. */
export async function signUp({ db, tokens }: AccountDeps, body: SignupBody): Promise<SignedIn> {
  const issues = signupIssues(body, isCommonPassword);
  if (issues.length > 0) throw new ApiError(400, issues[0]!.code, issues[0]!.message, { issues });
  const passwordHash = await hashPassword(body.password);
  const userId = randomUUID();
  const pair = newTokenPair(tokens);
  try {
    const issued = await db.transaction(async (transaction) => {
      await insertUser(transaction, { id: userId, username: body.username, email: body.email, passwordHash });
      return createUserSession(transaction, { id: randomUUID(), userId, ...pair.hashes });
    });
    return { user: { id: userId, username: body.username, email: body.email, permissions: [] }, pair, issued };
  } catch (error) {
    if (!(error instanceof DuplicateAccountError)) throw error;
    throw error.field === 'email'
      ? new ApiError(409, 'EMAIL_TAKEN', 'An account with this email address exists; sign in instead')
      : new ApiError(409, 'USERNAME_TAKEN', `The username "${body.username}" is taken; choose another`);
  }
}

const tooManyAttempts = (seconds: number) =>
  new ApiError(429, 'TOO_MANY_ATTEMPTS', `Too many failed sign-ins; try again in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });

/** A sign-in with username or email and password, throttled per identifier and address. */
export async function logIn(
  { db, tokens, loginRateLimit }: AccountDeps & { loginRateLimit: LoginRateLimit },
  body: LoginBody,
  ip: string,
): Promise<SignedIn> {
  const identifier = loginIdentifier(body);
  const user = await findUserForLogin(db, identifier);
  // One count per account, whether it is named by username or email; unknown names by name,
  // hashed: a name may be longer than the counters' keys (schemathesis found the 500).
  const account = user
    ? `user:${user.id}`
    : `name:${createHash('sha256').update(identifier.toLowerCase()).digest('hex')}`;
  const attempt = await loginRateLimit.attempt(account, ip);
  if (attempt.refused) throw tooManyAttempts(attempt.retryAfterSeconds);
  if (!(await verifyPassword(user?.passwordHash ?? null, body.password)) || !user) {
    if (attempt.last) throw tooManyAttempts(attempt.retryAfterSeconds);
    throw new ApiError(401, 'INVALID_CREDENTIALS', 'The username, email or password is not right');
  }
  // Said only to whoever knows the password: a guesser learns nothing of the account.
  if (user.disabledAt !== null) throw new ApiError(403, 'ACCOUNT_DISABLED', 'This account is disabled; ask an admin');
  await loginRateLimit.succeeded(account, ip);
  const pair = newTokenPair(tokens);
  const issued = await createUserSession(db, { id: randomUUID(), userId: user.id, ...pair.hashes });
  return { user: (await findUserView(db, user.id))!, pair, issued };
}

/** What a refresh came to: new tokens, or why the session cannot go on (see domain/refresh-decision). */
export type RefreshResult =
  | { outcome: 'ROTATE'; signedIn: SignedIn }
  | { outcome: 'ALREADY_ROTATED' | 'EXPIRED' | 'REVOKED' | 'UNKNOWN' }
  | { outcome: 'REUSED_REVOKE_FAMILY'; sessionId: string };

/**
 * Rotates the presented refresh token. Its row is locked, so two refreshes with one token
 * cannot both rotate it; the pure decideRefresh says what the token's state allows.
 */
export async function refreshSession({ db, tokens }: AccountDeps, presented: string): Promise<RefreshResult> {
  const usedHash = hashToken(presented);
  const pair = newTokenPair(tokens);
  const result = await db.transaction(async (transaction) => {
    const state = await lockRefreshToken(transaction, usedHash);
    if (!state) return { outcome: 'UNKNOWN' as const };
    const now = Date.now();
    const maxLifetimeMs = tokens.maxSessionSeconds * 1000;
    const decision = decideRefresh(state, now, tokens.reuseGraceSeconds * 1000, maxLifetimeMs);
    if (decision.outcome === 'ROTATE') {
      const refresh = {
        ...pair.hashes.refresh,
        ttlSeconds: refreshTtlSeconds(tokens.refreshTtlSeconds, state.sessionCreatedAt, now, maxLifetimeMs),
      };
      const issued = await rotateRefreshToken(transaction, {
        sessionId: state.sessionId,
        usedHash,
        access: pair.hashes.access,
        refresh,
      });
      return { outcome: decision.outcome, issued, userId: state.userId };
    }
    if (decision.outcome === 'REUSED_REVOKE_FAMILY')
      await revokeSession(transaction, state.sessionId, 'refresh token reused');
    return { outcome: decision.outcome, sessionId: state.sessionId };
  });
  if (result.outcome === 'ROTATE') {
    return {
      outcome: 'ROTATE',
      signedIn: { user: (await findUserView(db, result.userId))!, pair, issued: result.issued },
    };
  }
  if (result.outcome === 'REUSED_REVOKE_FAMILY') return { outcome: result.outcome, sessionId: result.sessionId };
  return { outcome: result.outcome };
}
