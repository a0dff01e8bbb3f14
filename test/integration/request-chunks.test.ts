import { sql } from 'slonik';
import { z } from 'zod';
import { createChunkRelay } from '../../activities/chunk-relay';
import { appendChunks, claimStream, readChunks } from '../../db/request-chunks';
import { eventually } from '../support/eventually';
import { readEventStream } from '../support/event-stream';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();

/** A request row to hang chunks on (its own output does not stream). */
async function aRequest(): Promise<string> {
  const token = await stack.api.anonymousToken();
  const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
  await stack.api.waitUntilFinal(token, body.id);
  return body.id;
}

async function stream(requestId: string, pieces: string[]) {
  const relay = createChunkRelay(stack.db, requestId);
  for (const piece of pieces) await relay.push(piece);
  await relay.finish();
}

const stored = async (requestId: string) =>
  (await readChunks(stack.db, requestId, 0, 100)).map(({ seq, attempt, kind, text }) => [seq, attempt, kind, text]);

describe('a request’s chunks', () => {
  it('are numbered without gaps across tries; a later try stores only what goes past the stored text', async () => {
    const id = await aRequest();
    await stream(id, ['We', ' hold']);
    await stream(id, ['We hold', ' these', ' truths']);
    expect(await stored(id)).toEqual([
      [1, 1, 'text', 'We'],
      [2, 1, 'text', ' hold'],
      [3, 2, 'text', ' these'],
      [4, 2, 'text', ' truths'],
    ]);
  });

  it('restart when a later try says something else, and the text after the restart is that try’s whole output', async () => {
    const id = await aRequest();
    await stream(id, ['We', ' hold']);
    await stream(id, ['They', ' hold']);
    expect(await stored(id)).toEqual([
      [1, 1, 'text', 'We'],
      [2, 1, 'text', ' hold'],
      [3, 2, 'restart', ''],
      [4, 2, 'text', 'They'],
      [5, 2, 'text', ' hold'],
    ]);
    // A third try reads only what came after the restart as stored.
    expect(await claimStream(stack.db, id)).toEqual({ attempt: 3, lastSeq: 5, stored: 'They hold' });
  });

  it('refuse the writes of a try that another has taken the stream from', async () => {
    const id = await aRequest();
    const first = await claimStream(stack.db, id);
    await claimStream(stack.db, id);
    expect(
      await appendChunks(stack.db, id, first!.attempt, [
        { seq: 1, attempt: first!.attempt, kind: 'text', text: 'late' },
      ]),
    ).toBe(false);
    expect(await stored(id)).toEqual([]);
  });

  it('are all sent to a reader that comes late to a running stream, page after page, without waiting for the next one', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, {
      model: 'echo',
      input: { ...echoInput, parameters: { delay_ms: 20_000 } },
    });
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${body.id}`, { token })).body.status,
      (status) => status === 'PROCESSING',
    );
    const { attempt } = (await claimStream(stack.db, body.id))!;
    const chunks = Array.from({ length: 600 }, (_, index) => ({
      seq: index + 1,
      attempt,
      kind: 'text' as const,
      text: `${index} `,
    }));
    expect(await appendChunks(stack.db, body.id, attempt, chunks)).toBe(true);
    // Well within the 5 s after which a reader looks at the table again in any case.
    const read = await readEventStream(`${stack.api.baseUrl}/api/requests/${body.id}/events`, {
      token,
      timeoutMs: 4_000,
      stopAfter: (_event, seen) => seen.filter((event) => event.event === 'chunk').length === 600,
    });
    expect(read.events.filter((event) => event.event === 'chunk').map((event) => event.data.seq)).toEqual(
      chunks.map((chunk) => chunk.seq),
    );
    await stack.api.call('POST', `/api/requests/${body.id}/cancel`, { token });
  });

  it('go with their request', async () => {
    const id = await aRequest();
    await stream(id, ['We hold']);
    await stack.db.query(sql.unsafe`DELETE FROM work_requests WHERE id = ${id}`);
    expect(
      await stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM request_chunks WHERE request_id = ${id}`),
    ).toBe(0);
  });
});
