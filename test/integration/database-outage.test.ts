import { setTimeout as sleep } from 'node:timers/promises';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { addTestModel } from '../support/models';
import { endingsOf } from '../support/request-endings';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

// The worker reaches PostgreSQL through a proxy; the API and the test's own checks do not.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ workerDatabaseProxy: true });
  // Its request timeout is shorter than the outages below: before the model's timeout covered the
  // model alone, a hung database made the requests it was answering fail REQUEST_TIMEOUT.
  await addTestModel(stack.db, {
    id: 'echo-quick',
    like: 'echo',
    requestTimeoutSeconds: 3,
    maxInstances: 2,
    maxConcurrency: 4,
  });
  const token = await stack.api.anonymousToken();
  await stack.api.waitUntilFinal(
    token,
    (await stack.api.submit(token, { model: 'echo-quick', input: echoInput })).body.id,
  );
});
afterAll(async () => {
  stack?.workerDatabase?.thaw();
  stack?.workerDatabase?.bringUp();
  await stack?.stop();
});

/** Each takes the model a second: the outages below begin while it works on some of them. */
const slowInput = { ...echoInput, parameters: { delay_ms: 1_000 } };

/** Submits `count` requests from four clients; their ids. */
async function submitMany(count: number): Promise<string[]> {
  const tokens = await Promise.all([0, 1, 2, 3].map(() => stack.api.anonymousToken()));
  return fromConcurrentClients(count, 4, async (n) => {
    const submitted = await stack.api.submit(tokens[n % 4]!, { model: 'echo-quick', input: slowInput });
    expect(submitted.status).toBe(202);
    return submitted.body.id as string;
  });
}

type Proxy = NonNullable<TestStack['workerDatabase']>;
const outages: [string, (proxy: Proxy) => void, number, (proxy: Proxy) => void][] = [
  ['hung for 12 s', (proxy) => proxy.freeze(), 12_000, (proxy) => proxy.thaw()],
  ['restarting (connections cut, refused for 8 s)', (proxy) => proxy.takeDown(), 8_000, (proxy) => proxy.bringUp()],
];

describe("the worker's database out of reach while requests are on their way", () => {
  it.each(outages)(
    '%s: every request completes once, with one stats row, and no slot stays held',
    async (_, begin, lastsMs, end) => {
      const proxy = stack.workerDatabase!;
      const ids = await submitMany(16);
      await sleep(500); // the model is working on some, others wait for a slot
      begin(proxy);
      await sleep(lastsMs);
      end(proxy);
      // Every request COMPLETE with exactly one stats row, none left open, no slot held.
      expect(await endingsOf(stack.db, ids, 60_000)).toEqual({
        complete: ids.length,
        failed: [],
        unended: 0,
        statsNotOnce: 0,
        heldSlots: 0,
      });
    },
  );
});
