import pino from 'pino';
import { listenForRequestEnds, type RequestEnds } from '../../api/request-ends';
import { findOwnWorkRequest } from '../../db/work-requests';
import { echoInput, useTestStack } from '../support/test-stack';
import { eventually } from '../support/eventually';

let token: string;
let sessionId: string;
const stack = useTestStack();
beforeAll(async () => {
  const session = await stack.api.call('POST', '/api/sessions/anonymous');
  ({ token, sessionId } = session.body);
});

/** A listener of its own, so that only a notice (or `lookAgainMs`) can wake a wait. */
async function listen(lookAgainMs: number) {
  return listenForRequestEnds({
    databaseUrl: stack.services.databaseUrl,
    schema: stack.schema,
    logger: pino({ level: 'silent' }),
    lookAgainMs,
  });
}

/** Reads the request as its owner, counting the reads. */
function countedRead(id: string) {
  const read = async () => {
    read.count++;
    return (await findOwnWorkRequest(stack.db, id, { sessionId }))!;
  };
  read.count = 0;
  return read;
}

async function processingRequest(): Promise<string> {
  const id = await stack.api.submitAccepted(token, {
    model: 'echo',
    input: { ...echoInput, parameters: { delay_ms: 60_000 } },
  });
  await eventually(
    () => stack.api.call('GET', `/api/requests/${id}`, { token }),
    (r) => r.body.status === 'PROCESSING',
  );
  return id;
}

describe('request ends, told by PostgreSQL as they commit', () => {
  let ends: RequestEnds & { stop: () => Promise<void> };
  afterEach(async () => {
    await ends?.stop();
  });

  it('wake a waiting long poll: one read before the end, one after it', async () => {
    ends = await listen(60_000);
    const id = await processingRequest();
    const read = countedRead(id);
    const waited = ends.readUntilEnded(id, 60_000, read);
    await eventually(
      async () => read.count,
      (count) => count === 1,
    );
    expect((await stack.api.call('POST', `/api/requests/${id}/cancel`, { token })).status).toBe(202);
    expect((await waited).status).toBe('CANCELLED');
    expect(read.count).toBe(2);
  });

  it('without a notice, read the request again every lookAgainMs until the time is up', async () => {
    ends = await listen(100);
    const id = await processingRequest();
    const read = countedRead(id);
    const last = await ends.readUntilEnded(id, 450, read);
    expect(last.status).toBe('PROCESSING');
    expect(read.count).toBeGreaterThanOrEqual(3);
    await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
  });

  it('answer an ended request with one read and no wait', async () => {
    ends = await listen(60_000);
    const id = await stack.api.submitAccepted(token, { model: 'echo', input: echoInput });
    await stack.api.waitUntilFinal(token, id);
    const read = countedRead(id);
    expect((await ends.readUntilEnded(id, 60_000, read)).status).toBe('COMPLETE');
    expect(read.count).toBe(1);
  });
});
