import { canTransition, isFinal, statusesBefore } from '../../domain/request-status';

describe('the request status machine', () => {
  it.each([
    ['REQUESTED', 'PROCESSING', true],
    ['PROCESSING', 'COMPLETE', true],
    ['PROCESSING', 'FAILED', true],
    ['REQUESTED', 'CANCELLED', true],
    ['REQUESTED', 'COMPLETE', false],
    ['COMPLETE', 'FAILED', false],
    ['FAILED', 'PROCESSING', false],
    ['CANCELLED', 'REQUESTED', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('has exactly three final statuses', () => {
    expect(['REQUESTED', 'PROCESSING', 'COMPLETE', 'FAILED', 'CANCELLED'].filter((s) => isFinal(s as never))).toEqual([
      'COMPLETE',
      'FAILED',
      'CANCELLED',
    ]);
  });

  it('lists what may precede a status, for guarded updates', () => {
    expect(statusesBefore('COMPLETE')).toEqual(['PROCESSING']);
    expect(statusesBefore('FAILED')).toEqual(['REQUESTED', 'PROCESSING']);
  });
});
