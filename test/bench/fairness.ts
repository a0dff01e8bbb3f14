// Benchmark: who waits, and how long, on a saturated model (`npm run bench:fairness`, issue 35).
//
// Each scenario runs on a model of its own (one instance, two slots, an echo that takes
// BENCH_SERVICE_MS, 500 by default), offered more than it can serve, through the API and the
// worker as clients use them (Idempotency-Key, a 503 tried again after its Retry-After):
// 1. two owners, one sending 20× the other's rate: the light owner's waits, with fair share and
//    with today's FIFO. FIFO is the same line with both senders under one owner: one owner's
//    requests are served in submission order, which is first come, first served;
// 2. `high` priority (a quarter of what the model serves) beside a saturating `normal` flow: its waits;
// 3. deadlines (Cancel-After 1–8 s) beside a saturating flow: requests that ran past their
//    deadline, requests admitted on the estimate that then expired, and the 429s;
// 4. four owners keeping 2, 4, 8 and 16 requests in flight: Jain's fairness index of the
//    requests each completed in the window, with fair share and with FIFO (one owner);
// 5. the warm path: a warm request's latency, and what the fair-share check the insert gained
//    costs: PostgreSQL's execution time of it (EXPLAIN ANALYZE; it runs inside the insert's
//    statement), and as an upper bound the same check as a statement of its own, in the same run.
// A wait is started_at − created_at, as PostgreSQL recorded them. BENCH_ONLY=2,3 runs some alone.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { queueShareOf, readQueueShare } from '../../db/work-requests';
import { addTestModel } from '../support/models';
import { seededRandom } from '../support/seeded-random';
import { echoInput, type TestStack } from '../support/test-stack';
import { percentile } from './figures';
import { runBenchmark } from './run-benchmark';

const serviceMs = Number(process.env.BENCH_SERVICE_MS ?? 500);
const windowSeconds = Number(process.env.BENCH_SECONDS ?? 30);
const slots = 2;
/** BENCH_ONLY=2,3 runs those scenarios alone. */
const only = process.env.BENCH_ONLY?.split(',').map(Number);
const runs = (scenario: number) => !only || only.includes(scenario);
/** What the model serves a second, and the saturating flow's rate: a quarter above it. */
const capacityPerSecond = (slots * 1000) / serviceMs;
const heavyPerSecond = capacityPerSecond * 1.25;

type Sent = { id: string | null; sender: string; status: number; sentAt: number };
type Owner = { token: string; userId: string };

const ended = z.object({
  id: z.string(),
  status: z.string(),
  code: z.string().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  deadlineAt: z.number().nullable(),
  /** When its (last) slot was given: the line's decision, before the workflow heard of it. */
  leasedAt: z.number().nullable(),
});
type Ended = z.infer<typeof ended>;

runBenchmark(
  async (stack) => {
    const random = seededRandom(35);
    const owner = async (name: string): Promise<Owner> => {
      const account = await stack.api.signUp({ username: `${name}${randomUUID().slice(0, 6)}` });
      return { token: account.accessToken, userId: account.user.id };
    };
    const model = async (id: string) => {
      await addTestModel(stack.db, { id, maxInstances: 1, maxConcurrency: slots, keepWarmSeconds: 600 });
      // Warm, and with its service time measured (the estimate reads it).
      const warm = await owner('warm');
      for (let i = 0; i < 3; i++) {
        const first = await stack.api.submitAccepted(warm.token, { model: id, input: slow() });
        await stack.api.waitForEnd(warm.token, first);
      }
      await waitIdle(stack, id);
    };
    const slow = () => ({ ...echoInput, parameters: { delay_ms: serviceMs } });

    /** One submission as a careful client makes it; its answer's status, and the id when accepted. */
    const send = async (who: Owner, sender: string, body: Record<string, unknown>, headers = {}): Promise<Sent> => {
      const sentAt = Date.now();
      const key = { 'idempotency-key': randomUUID(), ...headers };
      for (;;) {
        const response = await stack.api.submit(who.token, { input: slow(), ...body }, key);
        if (response.status === 503) {
          await sleep(Number(response.headers.get('retry-after') ?? 0.2) * 1000);
          continue;
        }
        const accepted = response.status === 202 || response.status === 200;
        return { id: accepted ? (response.body.id as string) : null, sender, status: response.status, sentAt };
      }
    };
    /** Sends at `perSecond` (exponential gaps) until `until`. */
    const openLoop = async (until: number, perSecond: number, submit: () => Promise<Sent>) => {
      const sent: Promise<Sent>[] = [];
      while (Date.now() < until) {
        sent.push(submit());
        await sleep((-Math.log(1 - random()) / perSecond) * 1000);
      }
      return Promise.all(sent);
    };

    console.log(
      `fairness: service ${serviceMs} ms, ${slots} slots (${((slots * 1000) / serviceMs).toFixed(1)}/s), ` +
        `saturating flow ${heavyPerSecond.toFixed(1)}/s, ${windowSeconds} s per scenario\n`,
    );

    // 1. Two owners, 20:1.
    const lightWaits: Record<string, number[]> = {};
    for (const mode of ['fair', 'fifo'] as const) {
      if (!runs(1)) break;
      const id = `fair-${mode}`;
      await model(id);
      const heavy = await owner('heavy');
      const light = mode === 'fair' ? await owner('light') : heavy;
      const until = Date.now() + windowSeconds * 1000;
      const [heavySent, lightSent] = await Promise.all([
        openLoop(until, heavyPerSecond, () => send(heavy, 'heavy', { model: id })),
        openLoop(until, heavyPerSecond / 20, () => send(light, 'light', { model: id })),
      ]);
      const lightIds = accepted(lightSent);
      await untilEnded(stack, lightIds, light.token);
      await cancelAll(stack, accepted(heavySent), heavy.token);
      const lightRows = await readEnded(stack, lightIds);
      lightWaits[mode] = waits(lightRows);
      const serviceP99 = lightWaits[mode]!.length ? percentile(lightWaits[mode]!, 99) : NaN;
      console.log(
        `1. light owner (20× less) ${mode.padEnd(4)}: n ${lightIds.length}, wait p50 ${ms(percentile(lightWaits[mode]!, 50))}, p99 ${ms(serviceP99)} = ${(serviceP99 / serviceMs).toFixed(2)} service times` +
          (mode === 'fair' ? ' (target ≤ 2)' : ''),
      );
      console.log(`   ${waitParts(lightRows)}`);
      await waitIdle(stack, id);
    }

    // 2. High priority under saturation.
    if (runs(2)) {
      const id = 'prio-high';
      await model(id);
      const flow = await owner('flow');
      const urgent = await owner('urgent');
      await stack.db.query(sql.unsafe`UPDATE users SET priority_ceiling = 0 WHERE id = ${urgent.userId}`);
      const until = Date.now() + windowSeconds * 1000;
      const [flowSent, highSent] = await Promise.all([
        openLoop(until, heavyPerSecond, () => send(flow, 'flow', { model: id })),
        openLoop(until, capacityPerSecond / 4, () => send(urgent, 'high', { model: id, priority: 'high' })),
      ]);
      const highIds = accepted(highSent);
      await untilEnded(stack, highIds, urgent.token);
      await cancelAll(stack, accepted(flowSent), flow.token);
      const highRows = await readEnded(stack, highIds);
      const highWaits = waits(highRows);
      const p99 = percentile(highWaits, 99);
      const measured = await measuredServiceMs(stack, id);
      console.log(
        `2. high priority beside a saturating flow: n ${highIds.length}, wait p50 ${ms(percentile(highWaits, 50))}, p99 ${ms(p99)} = ${(p99 / serviceMs).toFixed(2)} × the model's ${serviceMs} ms, ${(p99 / measured).toFixed(2)} × its measured service time ${ms(measured)} (target ≤ 1)`,
      );
      console.log(`   ${waitParts(highRows)}`);
      await waitIdle(stack, id);
    }

    // 3. Deadlines.
    if (runs(3)) {
      const id = 'due-saturated';
      await model(id);
      const flow = await owner('flow');
      const due = await owner('due');
      const until = Date.now() + windowSeconds * 1000;
      const [flowSent, dueSent] = await Promise.all([
        openLoop(until, heavyPerSecond, () => send(flow, 'flow', { model: id })),
        openLoop(until, 2, () =>
          send(due, 'due', { model: id }, { 'cancel-after': `${Math.round(1_000 + random() * 7_000)}ms` }),
        ),
      ]);
      const dueIds = accepted(dueSent);
      await untilEnded(stack, dueIds, due.token);
      await cancelAll(stack, accepted(flowSent), flow.token);
      const rows = await readEnded(stack, dueIds);
      const ranPast = rows.filter(
        (r) =>
          (r.startedAt !== null && r.startedAt > r.deadlineAt!) ||
          (r.status === 'COMPLETE' && r.finishedAt! > r.deadlineAt!),
      );
      const cut = rows.filter((r) => r.code === 'DEADLINE_EXCEEDED');
      const expired = rows.filter((r) => r.code === 'EXPIRED');
      const overshoot = cut.map((r) => r.finishedAt! - r.deadlineAt!);
      console.log(
        `3. deadlines beside a saturating flow: sent ${dueSent.length}, refused 429 ${dueSent.filter((s) => s.status === 429).length}, ` +
          `admitted ${rows.length}: complete ${rows.filter((r) => r.status === 'COMPLETE').length}, cut ${cut.length}` +
          `${overshoot.length ? ` (ended ${ms(Math.max(...overshoot))} after the deadline at most)` : ''}, expired ${expired.length}`,
      );
      console.log(
        `   ran past their deadline: ${ranPast.length} (target 0); admitted on the estimate, then missed it: ${expired.length + cut.length} (target 0)`,
      );
      await waitIdle(stack, id);
    }

    // 4. Jain's index over four owners with 2, 4, 8 and 16 in flight.
    for (const mode of ['fair', 'fifo'] as const) {
      if (!runs(4)) break;
      const id = `jain-${mode}`;
      await model(id);
      const shared = await owner('shared');
      const senders = await Promise.all(
        [2, 4, 8, 16].map(async (inFlight, i) => ({
          name: `owner${i + 1}`,
          inFlight,
          who: mode === 'fair' ? await owner(`eq${i}`) : shared,
        })),
      );
      const until = Date.now() + windowSeconds * 1000;
      const sent: Sent[] = [];
      const start = Date.now();
      await Promise.all(
        senders.flatMap(({ name, inFlight, who }) =>
          Array.from({ length: inFlight }, async () => {
            while (Date.now() < until) {
              const one = await send(who, name, { model: id });
              sent.push(one);
              if (one.id) await stack.api.waitForEnd(who.token, one.id, 120_000).catch(() => undefined);
              else await sleep(200);
            }
          }),
        ),
      );
      const rows = await readEnded(stack, accepted(sent));
      const senderOf = new Map(sent.filter((s) => s.id).map((s) => [s.id!, s.sender]));
      const completed = senders.map(
        ({ name }) =>
          rows.filter(
            (r) =>
              senderOf.get(r.id) === name &&
              r.status === 'COMPLETE' &&
              r.finishedAt! >= start &&
              r.finishedAt! <= until,
          ).length,
      );
      console.log(
        `4. four owners with 2/4/8/16 in flight, ${mode.padEnd(4)}: completed ${completed.join('/')}, Jain's index ${jain(completed).toFixed(3)}` +
          (mode === 'fair' ? ' (target ≥ 0.95)' : ''),
      );
      await waitIdle(stack, id);
    }

    // 5. The warm path, and the fair-share check it gained.
    if (runs(5)) {
      const who = await owner('warmpath');
      const latencies: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        const response = await stack.api.call('POST', '/v2/models/echo/infer', { token: who.token, json: echoInput });
        if (response.status !== 200) throw new Error(`warm infer: ${response.status}`);
        latencies.push(performance.now() - t0);
      }
      const principal = {
        kind: 'user' as const,
        userId: who.userId,
        sessionId: randomUUID(),
        username: 'bench',
        email: 'bench@example.com',
        permissions: [],
      };
      // What the insert pays: the check's own execution in PostgreSQL (it runs inside the
      // insert's statement); and, as an upper bound, the check as a statement of its own.
      const executions: number[] = [];
      const statements: number[] = [];
      const plan = z.object({ 'QUERY PLAN': z.array(z.object({ 'Execution Time': z.number() })) });
      for (let i = 0; i < 1000; i++) {
        const [explained] = await stack.db.oneFirst(
          sql.type(plan)`EXPLAIN (ANALYZE, FORMAT JSON) ${queueShareOf('echo', principal)}`,
        );
        executions.push(explained!['Execution Time']);
        const t0 = performance.now();
        await readQueueShare(stack.db, 'echo', principal);
        statements.push(performance.now() - t0);
      }
      const warm = percentile(latencies, 50);
      const inside = percentile(executions, 50);
      const alone = percentile(statements, 50);
      console.log(
        `5. warm path: /v2 infer p50 ${ms(warm)}; the fair-share check the insert gained: ${ms(inside)} of PostgreSQL's time p50 = ${((inside / warm) * 100).toFixed(2)} % of it; ` +
          `as a statement of its own, with its round trip, ${ms(alone)} = ${((alone / warm) * 100).toFixed(1)} % (an upper bound; target ≤ 5 %)`,
      );
    }
  },
  {
    env: {
      REQUESTS_IN_FLIGHT_PER_OWNER: '10000',
      REQUESTS_PER_MINUTE_PER_OWNER: '100000',
      SIGNUPS_PER_IP_PER_HOUR: '1000',
    },
  },
);

const accepted = (sent: Sent[]) => sent.filter((s) => s.id !== null).map((s) => s.id!);
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : Math.round(value)} ms`;
const waits = (rows: readonly Ended[]) =>
  rows.filter((r) => r.startedAt !== null).map((r) => r.startedAt! - r.createdAt);
/** Where a wait went: to the slot (the line), and from the slot to the model's call (the hand-over). */
const waitParts = (rows: readonly Ended[]) => {
  const leased = rows.filter((r) => r.startedAt !== null && r.leasedAt !== null);
  const toSlot = leased.map((r) => r.leasedAt! - r.createdAt);
  const handover = leased.map((r) => r.startedAt! - r.leasedAt!);
  return `to the slot p50 ${ms(percentile(toSlot, 50))}, p99 ${ms(percentile(toSlot, 99))} = ${(percentile(toSlot, 99) / serviceMs).toFixed(2)} service times; slot to call p50 ${ms(percentile(handover, 50))}, p99 ${ms(percentile(handover, 99))}`;
};

/** Jain's fairness index: 1 when all are equal, 1/n when one has everything. */
function jain(values: number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 0 : (sum * sum) / (values.length * squares);
}

async function readEnded(stack: TestStack, ids: string[]): Promise<readonly Ended[]> {
  return stack.db.any(sql.type(ended)`
    SELECT id, status, error ->> 'code' AS code, created_at AS "createdAt", started_at AS "startedAt",
           finished_at AS "finishedAt", deadline_at AS "deadlineAt",
           (SELECT max(l.leased_at) FROM instance_leases l WHERE l.request_id = r.id) AS "leasedAt"
      FROM work_requests r WHERE id = ANY(${sql.array(ids, 'uuid')})`);
}

async function untilEnded(stack: TestStack, ids: string[], token: string) {
  for (const id of ids) await stack.api.waitForEnd(token, id, 300_000);
}

async function cancelAll(stack: TestStack, ids: string[], token: string) {
  await Promise.all(ids.map((id) => stack.api.call('POST', `/api/requests/${id}/cancel`, { token })));
  for (const id of ids) await stack.api.waitForEnd(token, id, 300_000);
}

/** Until nothing waits for or holds a slot of the model: each scenario starts from a quiet model. */
async function waitIdle(stack: TestStack, modelId: string) {
  for (;;) {
    const busy = await stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT ((SELECT count(*) FROM slot_waiters WHERE model_id = ${modelId})
           + (SELECT count(*) FROM instance_leases WHERE model_id = ${modelId} AND released_at IS NULL))::int AS n`);
    if (busy === 0) return;
    await sleep(200);
  }
}

/** The model's mean service time as Podium measures it (request_stats: processed − pod ready), in ms. */
async function measuredServiceMs(stack: TestStack, modelId: string): Promise<number> {
  return stack.db.oneFirst(sql.type(z.object({ ms: z.number() }))`
    SELECT avg(date_part('epoch', processed_timestamp - pod_ready_timestamp)) * 1000 AS ms
      FROM request_stats WHERE model_id = ${modelId} AND result_success AND pod_ready_timestamp IS NOT NULL`);
}
