import { signupIssues, type SignupBody } from '../../domain/accounts';

const common = new Set(['correcthorse', 'password123']);
const isCommon = (password: string) => common.has(password);
const valid: SignupBody = { username: 'ada.lovelace', email: 'ada@example.com', password: 'analytical engine 1843' };
const codes = (body: Partial<SignupBody>) => signupIssues({ ...valid, ...body }, isCommon).map((issue) => issue.code);

describe('signup rules', () => {
  it('accepts a good account', () => {
    expect(codes({})).toEqual([]);
    expect(codes({ username: 'a_b-c.d' })).toEqual([]);
    expect(codes({ username: 'abc', password: 'x'.repeat(128) })).toEqual([]);
  });

  it.each([
    [{ username: 'ab' }, 'USERNAME_LENGTH'],
    [{ username: 'a'.repeat(33) }, 'USERNAME_LENGTH'],
    [{ username: 'ada lovelace' }, 'USERNAME_CHARACTERS'],
    [{ username: 'ada@home' }, 'USERNAME_CHARACTERS'],
    [{ username: 'adé' }, 'USERNAME_CHARACTERS'],
    [{ email: '' }, 'EMAIL_REQUIRED'],
    [{ email: 'ada' }, 'EMAIL_INVALID'],
    [{ email: 'ada@' }, 'EMAIL_INVALID'],
    [{ email: 'ada@example' }, 'EMAIL_INVALID'],
    [{ password: 'short' }, 'PASSWORD_TOO_SHORT'],
    [{ password: '123456789' }, 'PASSWORD_TOO_SHORT'],
    [{ password: 'x'.repeat(129) }, 'PASSWORD_TOO_LONG'],
    [{ username: 'ada.lovelace', password: 'Ada.Lovelace' }, 'PASSWORD_IS_USERNAME'],
    [{ email: 'ada@example.com', password: 'ADA@example.com' }, 'PASSWORD_IS_EMAIL'],
    [{ password: 'Password123' }, 'PASSWORD_TOO_COMMON'],
  ])('%j breaks %s', (body, code) => {
    expect(codes(body)).toEqual([code]);
  });

  it('reports every broken rule, one per field, in field order', () => {
    expect(codes({ username: 'x', email: 'nope', password: 'short' })).toEqual([
      'USERNAME_LENGTH',
      'EMAIL_INVALID',
      'PASSWORD_TOO_SHORT',
    ]);
  });

  it('gives each issue its field and a message a person can act on', () => {
    const [issue] = signupIssues({ ...valid, password: 'short' }, isCommon);
    expect(issue).toEqual({
      field: 'password',
      code: 'PASSWORD_TOO_SHORT',
      message: 'Passwords have at least 10 characters',
    });
  });
});
