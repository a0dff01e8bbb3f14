import { z } from 'zod';

export const minimumPasswordLength = 10;
export const maximumPasswordLength = 128;
/**
 * ADMIN views and runs the platform (requests, instances, stats, accounts); MODEL_ADMIN changes
 * the model catalog, which decides what code runs on the worker hosts and in the cluster.
 */
export const permission = z.enum(['ADMIN', 'MODEL_ADMIN']);
export type Permission = z.infer<typeof permission>;

/** Body of `POST /api/auth/signup`: shapes only; the rules are in `signupIssues`. */
export const signupBody = z.strictObject({
  username: z.string().trim(),
  email: z.string().trim(),
  password: z.string(),
});
export type SignupBody = z.infer<typeof signupBody>;

/** Body of `POST /api/auth/login`: a username or an email, and the password. */
export const loginBody = z.union([
  z.strictObject({
    username: z.string().trim().min(1).max(320),
    password: z.string().min(1).max(maximumPasswordLength),
  }),
  z.strictObject({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(maximumPasswordLength) }),
]);
export type LoginBody = z.infer<typeof loginBody>;
export const loginIdentifier = (body: LoginBody) => ('username' in body ? body.username : body.email);

/** Body of an admin's act on an account (end its sessions, disable, enable): why, for the audit row. */
export const accountActionBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

/** Body of `PUT /api/admin/users/:id/priority-ceiling`: the highest priority the user may ask for, and why. */
export const priorityCeilingBody = accountActionBody.extend({
  ceiling: z.enum(['high', 'normal'], { error: 'ceiling is high or normal' }),
});

/** How many turns in a model's line a user takes for one of a weight-1 owner's (docs/scheduling.md). */
export const queueWeight = z.number().int().min(1).max(10);

export const queueWeightBody = accountActionBody.extend({
  weight: queueWeight.meta({ description: 'turns taken for one of a weight-1 owner’s; 1 unless set' }),
});

export type AccountIssue = { field: 'username' | 'email' | 'password'; code: string; message: string };

const usernameCharacters = /^[A-Za-z0-9_.-]+$/;
const emailSyntax = z.email();

/**
 * Every rule a new account breaks, each with its own code, in field order. Uniqueness is
 * left to the database (409), the only place it can be checked without a race.
 */
export function signupIssues(input: SignupBody, isCommonPassword: (password: string) => boolean): AccountIssue[] {
  const issues: AccountIssue[] = [];
  const { username, email, password } = input;
  if (username.length < 3 || username.length > 32) {
    issues.push({ field: 'username', code: 'USERNAME_LENGTH', message: 'Usernames have 3 to 32 characters' });
  } else if (!usernameCharacters.test(username)) {
    issues.push({
      field: 'username',
      code: 'USERNAME_CHARACTERS',
      message: 'Usernames use only letters, digits, "_", "-" and "."',
    });
  }
  if (email.length === 0) {
    issues.push({ field: 'email', code: 'EMAIL_REQUIRED', message: 'An email address is required' });
  } else if (email.length > 254 || !emailSyntax.safeParse(email).success) {
    issues.push({ field: 'email', code: 'EMAIL_INVALID', message: `"${email}" is not a valid email address` });
  }
  const lowered = password.toLowerCase();
  if (password.length < minimumPasswordLength) {
    issues.push({
      field: 'password',
      code: 'PASSWORD_TOO_SHORT',
      message: `Passwords have at least ${minimumPasswordLength} characters`,
    });
  } else if (password.length > maximumPasswordLength) {
    issues.push({
      field: 'password',
      code: 'PASSWORD_TOO_LONG',
      message: `Passwords have at most ${maximumPasswordLength} characters`,
    });
  } else if (lowered === username.toLowerCase()) {
    issues.push({ field: 'password', code: 'PASSWORD_IS_USERNAME', message: 'The password must not be the username' });
  } else if (lowered === email.toLowerCase()) {
    issues.push({
      field: 'password',
      code: 'PASSWORD_IS_EMAIL',
      message: 'The password must not be the email address',
    });
  } else if (isCommonPassword(lowered)) {
    issues.push({
      field: 'password',
      code: 'PASSWORD_TOO_COMMON',
      message: 'This password is on the list of the most common passwords; choose another',
    });
  }
  return issues;
}

/** Who is calling: what every authenticated route sees on `ctx.state.principal`. */
export const principal = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anonymous'), sessionId: z.uuid() }),
  z.object({
    kind: z.literal('user'),
    sessionId: z.uuid(),
    userId: z.uuid(),
    username: z.string(),
    email: z.string(),
    permissions: z.array(permission),
  }),
]);
export type Principal = z.infer<typeof principal>;

export const userView = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string(),
  permissions: z.array(permission),
});
export type UserView = z.infer<typeof userView>;
