import { maxDeadlineSeconds, parseDuration, resolveDeadline } from '../../domain/request-deadline';

const now = Date.parse('2026-12-05T10:00:00Z');

describe('a request deadline', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['2h', 7_200_000],
    ['1h1m1s1ms', 3_661_001],
  ])('reads the duration %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '-5s', '1 m', '5d', 'PT30S'])('is not a duration: %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('is a duration from now, or a time with its offset', () => {
    expect(resolveDeadline('30s', now)).toEqual({ at: now + 30_000 });
    expect(resolveDeadline('2026-12-05T11:00:00+01:00', now)).toMatchObject({ problem: { code: 'DEADLINE_IN_PAST' } });
    expect(resolveDeadline('2026-12-05T10:00:05Z', now)).toEqual({ at: now + 5_000 });
  });

  it('refuses what is unreadable, past or too far, each with its code', () => {
    expect(resolveDeadline('soon', now)).toMatchObject({ problem: { code: 'INVALID_DEADLINE' } });
    expect(resolveDeadline('2026-12-05T10:00:05', now)).toMatchObject({ problem: { code: 'INVALID_DEADLINE' } });
    expect(resolveDeadline('0s', now)).toMatchObject({ problem: { code: 'DEADLINE_IN_PAST' } });
    expect(resolveDeadline(`${maxDeadlineSeconds + 1}s`, now)).toMatchObject({ problem: { code: 'DEADLINE_TOO_FAR' } });
    expect(resolveDeadline(`${maxDeadlineSeconds}s`, now)).toEqual({ at: now + maxDeadlineSeconds * 1000 });
  });
});
