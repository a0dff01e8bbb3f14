import type { RequestStatus } from '../../domain/request-status';
import { laterStatus } from '../../web/request-statuses';

type Shown = { id: string; status: RequestStatus; attempt: number };

describe('the status a page shows', () => {
  const shown: Shown = { id: 'a', status: 'PROCESSING', attempt: 1 };

  it('does not go back when a poll that left earlier answers REQUESTED', () => {
    expect(laterStatus<Shown>(shown, { id: 'a', status: 'REQUESTED', attempt: 1 })).toEqual(shown);
  });

  it('moves on to the end', () => {
    expect(laterStatus<Shown>(shown, { id: 'a', status: 'COMPLETE', attempt: 1 }).status).toBe('COMPLETE');
  });

  it('starts over with a new attempt', () => {
    expect(laterStatus<Shown>(shown, { id: 'a', status: 'REQUESTED', attempt: 2 }).status).toBe('REQUESTED');
  });
});

describe('isFinalStatus (the client’s and the pages’ test)', () => {
  it('says what domain/request-status.ts says of every status', async () => {
    const { isFinal, requestStatus } = await import('../../domain/request-status');
    const { isFinalStatus } = await import('../../web/request-statuses');
    for (const status of requestStatus.options)
      expect([status, isFinalStatus(status)]).toEqual([status, isFinal(status)]);
  });
});
