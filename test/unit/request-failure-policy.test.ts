import {
  afterFailedCall,
  decideEnd,
  leavesInstanceClean,
  maxGoneInstances,
  maxInstanceReplacements,
} from '../../domain/request-failure-policy';

const fresh = { replacements: 0, goneInstances: 0 };
const failure = (code: string) => ({ code, message: code });

describe('after a call on an instance failed', () => {
  it.each([
    ['a model error fails the request; the instance serves on', 'MODEL_ERROR', { healthy: true, replace: false }],
    ['input the model rejected fails the request', 'MODEL_REJECTED_INPUT', { healthy: true, replace: false }],
    [
      'a timeout fails the request, and the instance is not trusted again',
      'REQUEST_TIMEOUT',
      { healthy: false, replace: false },
    ],
    [
      'an instance that stopped answering is replaced, and not trusted',
      'INSTANCE_UNREACHABLE',
      { healthy: false, replace: true },
    ],
    ['an instance gone before the call is replaced', 'INSTANCE_GONE', { healthy: false, replace: true }],
    ['a slot handed over twice is asked for again', 'SLOT_NOT_HELD', { healthy: true, replace: true }],
  ])('%s', (_name, code, expected) => {
    expect(afterFailedCall(failure(code), fresh)).toMatchObject(expected);
  });

  it('replaces an unreachable instance at most maxInstanceReplacements times, then fails', () => {
    let counts = fresh;
    const decisions: boolean[] = [];
    for (let i = 0; i <= maxInstanceReplacements; i++) {
      const decided = afterFailedCall(failure('INSTANCE_UNREACHABLE'), counts);
      decisions.push(decided.replace);
      counts = decided.counts;
    }
    expect(decisions).toEqual([...Array(maxInstanceReplacements).fill(true), false]);
  });

  it('counts gone instances apart: a storm of dead workers is not the request’s doing', () => {
    const afterTwo = { replacements: maxInstanceReplacements, goneInstances: 0 };
    expect(afterFailedCall(failure('INSTANCE_GONE'), afterTwo).replace).toBe(true);
    expect(
      afterFailedCall(failure('INSTANCE_GONE'), { replacements: 0, goneInstances: maxGoneInstances }).replace,
    ).toBe(false);
  });
});

describe('how a request ends', () => {
  const complete = { status: 'COMPLETE' as const };
  const failed = { status: 'FAILED' as const, error: failure('MODEL_ERROR') };
  it.each([
    ['a stored result wins over any interruption', { kind: 'CANCEL' as const }, complete, complete],
    ['a cancel', { kind: 'CANCEL' as const }, failed, { status: 'CANCELLED' }],
    ['a re-queue', { kind: 'REQUEUE' as const, reason: 'r' }, null, { status: 'REQUEUED' }],
    [
      'an admin’s fail, with the reason',
      { kind: 'ADMIN_FAIL' as const, reason: 'stuck' },
      null,
      { status: 'FAILED', error: { code: 'FAILED_BY_ADMIN', message: 'stuck' } },
    ],
    ['no interruption: what the call came to', null, failed, failed],
  ])('%s', (_name, interruption, outcome, end) => {
    expect(decideEnd(interruption, outcome)).toEqual(end);
  });

  it('an instance is clean after a cancel, but maybe stuck after an admin had to stop it', () => {
    expect([null, { kind: 'CANCEL' as const }].map(leavesInstanceClean)).toEqual([true, true]);
    expect(leavesInstanceClean({ kind: 'ADMIN_FAIL', reason: 'x' })).toBe(false);
    expect(leavesInstanceClean({ kind: 'REQUEUE', reason: 'x' })).toBe(false);
  });
});
