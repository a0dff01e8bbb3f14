// Benchmark: streaming through Podium (issue 33), against the same model called directly in the
// same run. Run with `npm run bench:streaming` (its own Postgres and Temporal, like the tests;
// the API in this process, the workers in processes of their own, as production runs them;
// BENCH_STREAM_WORKER=in-process puts the worker in the API's process, as `npm start` does).
//
//   1. time to first token, Podium (POST /v1/chat/completions, stream) minus direct;
//   2. added latency per chunk: each token of the `markov-clock` model is the time it was sent,
//      so arrival minus that is a chunk's latency, through Podium and directly;
//   3. 200 concurrent streams of 500 tokens: errors, and how much the API process's RSS grows;
//   4. 50 reconnects with Last-Event-ID in the middle of one stream: tokens lost or repeated;
//   5. the worker running a stream killed in the middle: the request completes, and the text a
//      client read equals the stored result.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { z } from 'zod';
import { readEventStream, type ReadEvent } from '../support/event-stream';
import { chatContent } from '../support/openai-results';
import type { TestStack } from '../support/test-stack';
import { workerProcesses } from '../support/worker-process';
import { percentile } from './figures';
import { runBenchmark } from './run-benchmark';

const firstTokenRuns = Number(process.env.BENCH_STREAM_TTFT_RUNS ?? 100);
const concurrentStreams = Number(process.env.BENCH_STREAMS ?? 200);
const tokensPerStream = Number(process.env.BENCH_STREAM_TOKENS ?? 500);
const reconnects = Number(process.env.BENCH_STREAM_RECONNECTS ?? 50);
const targets = { firstTokenAddedMs: 20, chunkAddedMs: 2, rssGrowthMb: 100 };

const chatBody = (extra: Record<string, unknown>) => ({
  messages: [{ role: 'user', content: 'We hold these' }],
  stream: true,
  ...extra,
});

/** Time to the first content chunk of an OpenAI stream, and the stream's text. */
async function firstToken(url: string, headers: Record<string, string>, body: unknown) {
  const t0 = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first: number | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (first === null && /"content":"[^"]+"/.test(seen)) first = performance.now() - t0;
  }
  if (first === null) throw new Error(`${url}: no token came`);
  return first;
}

/** Each chunk's latency: the clock model's tokens say when they were sent. */
function chunkLatencies(texts: string[], arrivals: number[]): number[] {
  return texts.map((text, index) => arrivals[index]! - Number(text.trim()));
}

async function clockStream(url: string, headers: Record<string, string>, body: unknown) {
  const texts: string[] = [];
  const arrivals: number[] = [];
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const at = performance.timeOrigin + performance.now();
    buffered += decoder.decode(value, { stream: true });
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      const content = /"content":"([^"]+)"/.exec(event)?.[1];
      if (content) {
        texts.push(content);
        arrivals.push(at);
      }
    }
  }
  return chunkLatencies(texts, arrivals);
}

/**
 * An OpenAI stream as a lean client reads it: the text and how it ended, not every event, so
 * that 200 of them at once weigh little beside the API in this process.
 */
async function leanStream(url: string, token: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    return { status: response.status, id: '', text: '', done: false, last: '' };
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let text = '';
  let id = '';
  let last = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      if (!event.startsWith('data: ')) continue;
      last = event.slice(6);
      if (last === '[DONE]') continue;
      const chunk = JSON.parse(last) as { id: string; choices: { delta: { content?: string } }[]; error?: unknown };
      if (chunk.error) return { status: 200, id, text, done: false, last };
      id ||= chunk.id.replace(/^chatcmpl-/, '');
      text += chunk.choices[0]?.delta.content ?? '';
    }
  }
  return { status: 200, id, text, done: last === '[DONE]', last };
}

/**
 * processes (the default): the API here, two workers in processes of their own, as production
 * runs them. in-process: the worker in the API's process, as `npm start` runs it (workflows
 * start eagerly); the crash is then not measured, since this process cannot be killed.
 */
const workerShape = process.env.BENCH_STREAM_WORKER === 'in-process' ? 'in-process' : 'processes';

async function benchmark(stack: TestStack) {
  const workers = workerProcesses(() => stack);
  try {
    if (workerShape === 'processes') {
      await workers.start();
      await workers.start();
    }
    console.log(`workers: ${workerShape === 'processes' ? 'two processes of their own' : "in the API's process"}`);
    await measure(stack, workers);
  } finally {
    workers.killAll();
  }
}

async function measure(stack: TestStack, workers: ReturnType<typeof workerProcesses>) {
  await stack.db.query(sql.unsafe`
    INSERT INTO models (id, display_name, description, protocol, local_command, container_image, resources,
                        startup_timeout_seconds, request_timeout_seconds, readiness_path, max_concurrency, keep_warm_seconds,
                        max_tokens, env)
    SELECT 'markov-clock', 'Markov (clock tokens)', 'tokens are the time they were sent', protocol, local_command,
           container_image, resources, startup_timeout_seconds, request_timeout_seconds, readiness_path, max_concurrency,
           keep_warm_seconds, max_tokens, '{"MARKOV_TOKEN_CLOCK": "1"}'
      FROM models WHERE id = 'markov'`);
  await stack.db.query(sql.unsafe`UPDATE models SET max_instances = 4 WHERE id = 'markov'`);
  const token = await stack.api.anonymousToken();
  const podium = { authorization: `Bearer ${token}` };
  const v1 = `${stack.api.baseUrl}/v1/chat/completions`;
  // Warm: an instance of each model, and the JIT.
  for (let i = 0; i < 10; i++) {
    await firstToken(v1, podium, { model: 'markov', ...chatBody({ max_tokens: 4 }) });
    await firstToken(v1, podium, { model: 'markov-clock', ...chatBody({ max_tokens: 4 }) });
  }
  const endpointOf = async (model: string) =>
    stack.db.oneFirst(sql.type(z.object({ endpoint: z.string() }))`
      SELECT endpoint FROM model_instances WHERE model_id = ${model} AND endpoint IS NOT NULL
         AND status NOT IN ('STOPPING', 'TERMINATED', 'FAILED') ORDER BY created_at LIMIT 1`);
  const direct = `${await endpointOf('markov')}/v1/chat/completions`;
  const directClock = `${await endpointOf('markov-clock')}/v1/chat/completions`;

  // 1. Time to first token.
  const viaPodium: number[] = [];
  const straight: number[] = [];
  for (let i = 0; i < firstTokenRuns; i++) {
    straight.push(await firstToken(direct, {}, { model: 'markov', ...chatBody({ max_tokens: 4 }) }));
    viaPodium.push(await firstToken(v1, podium, { model: 'markov', ...chatBody({ max_tokens: 4 }) }));
  }
  const addedFirst = percentile(viaPodium, 50) - percentile(straight, 50);
  console.log(`\ntime to first token (${firstTokenRuns} streams each, sequential)`);
  console.log(
    `  direct to the model   p50 ${percentile(straight, 50).toFixed(1)} ms, p99 ${percentile(straight, 99).toFixed(1)} ms`,
  );
  console.log(
    `  through Podium (/v1)  p50 ${percentile(viaPodium, 50).toFixed(1)} ms, p99 ${percentile(viaPodium, 99).toFixed(1)} ms`,
  );
  console.log(
    `  added by Podium       p50 ${addedFirst.toFixed(1)} ms (target ≤ ${targets.firstTokenAddedMs}: ${addedFirst <= targets.firstTokenAddedMs ? 'met' : 'NOT met'})`,
  );

  // 2. Latency per chunk.
  const clockBody = { model: 'markov-clock', ...chatBody({ max_tokens: 100, token_delay_ms: 5 }) };
  const directChunks: number[] = [];
  const podiumChunks: number[] = [];
  for (let i = 0; i < 20; i++) {
    directChunks.push(...(await clockStream(directClock, {}, clockBody)));
    podiumChunks.push(...(await clockStream(v1, podium, clockBody)));
  }
  const addedChunk = percentile(podiumChunks, 50) - percentile(directChunks, 50);
  console.log(`\nlatency per chunk (20 streams of 100 tokens, 5 ms apart)`);
  console.log(
    `  direct to the model   p50 ${percentile(directChunks, 50).toFixed(2)} ms, p99 ${percentile(directChunks, 99).toFixed(2)} ms (n ${directChunks.length})`,
  );
  console.log(
    `  through Podium (/v1)  p50 ${percentile(podiumChunks, 50).toFixed(2)} ms, p99 ${percentile(podiumChunks, 99).toFixed(2)} ms (n ${podiumChunks.length})`,
  );
  console.log(
    `  added by Podium       p50 ${addedChunk.toFixed(2)} ms (target ≤ ${targets.chunkAddedMs}: ${addedChunk <= targets.chunkAddedMs ? 'met' : 'NOT met'})`,
  );

  // 3. Many streams at once.
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let rssPeak = rssBefore;
  let retried = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: concurrentStreams }, async (_, index) => {
      // As a careful client: a 503 or 429 is tried again, with the same Idempotency-Key.
      const headers = { 'Idempotency-Key': `bench-stream-${Date.now()}-${index}` };
      const body = { model: 'markov', ...chatBody({ max_tokens: tokensPerStream, token_delay_ms: 2 }) };
      let read = await leanStream(v1, token, headers, body);
      for (let tries = 1; (read.status === 503 || read.status === 429) && tries < 30; tries++) {
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 500));
        read = await leanStream(v1, token, headers, body);
      }
      if (read.status !== 200) throw new Error(`status ${read.status}`);
      if (!read.done) throw new Error(`request ${read.id} ended without [DONE]: ${read.last}`);
      const { id, text } = read;
      const { request } = await stack.api.waitUntilFinal(token, id, 60_000);
      if (chatContent(request.result) !== text)
        throw new Error(`request ${id}: the text read is not the stored result`);
      if (text.split(' ').length !== tokensPerStream)
        throw new Error(`request ${id}: ${text.split(' ').length} tokens`);
    }),
  );
  clearInterval(sampler);
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const seconds = (performance.now() - t0) / 1000;
  const failed = results.filter((result) => result.status === 'rejected');
  const growth = (rssPeak - rssBefore) / 1024 / 1024;
  console.log(
    `\n${concurrentStreams} concurrent streams of ${tokensPerStream} tokens (2 ms apart), checked against the stored results`,
  );
  console.log(
    `  ${concurrentStreams - failed.length} complete, ${failed.length} errors (${retried} submissions tried again after a 503 or 429), in ${seconds.toFixed(1)} s (${((concurrentStreams * tokensPerStream) / seconds).toFixed(0)} tokens/s)`,
  );
  for (const failure of failed.slice(0, 3)) console.log(`    ${(failure as PromiseRejectedResult).reason}`);
  console.log(
    `  V8 heap used ${(heapBefore / 1024 / 1024).toFixed(0)} MB before, ${(heapAfter / 1024 / 1024).toFixed(0)} MB after, collected (+${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MB held)`,
  );
  console.log(
    `  API process RSS ${(rssBefore / 1024 / 1024).toFixed(0)} MB → peak ${(rssPeak / 1024 / 1024).toFixed(0)} MB: +${growth.toFixed(0)} MB (target ≤ ${targets.rssGrowthMb}: ${growth <= targets.rssGrowthMb ? 'met' : 'NOT met'})`,
  );

  // 4. Reconnects in the middle of a stream.
  const { body: submitted } = await stack.api.submit(token, {
    model: 'markov',
    input: { url: '/v1/chat/completions', body: chatBody({ max_tokens: tokensPerStream, token_delay_ms: 10 }) },
  });
  const events = `${stack.api.baseUrl}/api/requests/${submitted.id}/events`;
  const read: ReadEvent[] = [];
  let lastEventId: string | undefined;
  let connections = 0;
  for (; read.at(-1)?.event !== 'end'; connections++) {
    const perConnection = connections < reconnects ? 8 : Number.POSITIVE_INFINITY;
    const part = await readEventStream(events, {
      token,
      lastEventId,
      stopAfter: (event, seen) =>
        event.event === 'end' || seen.filter((e) => e.event === 'chunk').length >= perConnection,
    });
    read.push(...part.events);
    lastEventId = part.events.at(-1)?.id ?? lastEventId;
  }
  const chunks = read
    .filter((event) => event.event === 'chunk')
    .map((event) => event.data as { seq: number; text: string });
  const seqs = chunks.map((chunk) => chunk.seq);
  const missing = seqs.at(-1)! - new Set(seqs).size;
  const repeated = seqs.length - new Set(seqs).size;
  const stored = chatContent((await stack.api.waitUntilFinal(token, submitted.id)).request.result);
  const same = chunks.map((chunk) => chunk.text).join('') === stored;
  console.log(`\n${connections - 1} reconnects with Last-Event-ID in one stream of ${tokensPerStream} tokens`);
  console.log(
    `  ${chunks.length} chunks read: ${missing} lost, ${repeated} repeated; text equals the stored result: ${same}`,
  );

  if (workerShape === 'in-process') {
    console.log(
      '\nthe worker killed in the middle of a stream: not measured with the worker in this process (run with the default)',
    );
    return;
  }

  // 5. The worker running a stream, killed in the middle.
  const { body: doomed } = await stack.api.submit(token, {
    model: 'markov',
    input: { url: '/v1/chat/completions', body: chatBody({ max_tokens: 300, token_delay_ms: 10 }) },
  });
  let killedAfter = 0;
  const killAt = 50;
  const t1 = performance.now();
  const crash = await readEventStream(`${stack.api.baseUrl}/api/requests/${doomed.id}/events`, {
    token,
    timeoutMs: 180_000,
    stopAfter: (event, seen) => {
      const count = seen.filter((e) => e.event === 'chunk').length;
      if (killedAfter === 0 && count === killAt) {
        killedAfter = count;
        killWorkerOf(stack, doomed.id)
          .then(() => workers.start())
          .catch((error: unknown) => console.error('could not kill the worker:', error));
      }
      return event.event === 'end';
    },
  });
  const crashChunks = crash.events
    .filter((event) => event.event === 'chunk')
    .map((event) => event.data as { seq: number; attempt: number; text: string });
  const crashRequest = (await stack.api.waitUntilFinal(token, doomed.id)).request;
  const crashText = crashChunks.map((chunk) => chunk.text).join('');
  console.log(`\nthe worker running a stream of 300 tokens killed after ${killedAfter} chunks`);
  console.log(
    `  request ${crashRequest.status} in ${((performance.now() - t1) / 1000).toFixed(1)} s; tries ${new Set(crashChunks.map((chunk) => chunk.attempt)).size}; ` +
      `restarts ${crash.events.filter((event) => event.event === 'restart').length}; ` +
      `chunks ${crashChunks.length}, repeated ${crashChunks.length - new Set(crashChunks.map((chunk) => chunk.seq)).size}; ` +
      `client's text equals the stored result: ${crashRequest.status === 'COMPLETE' && crashText === chatContent(crashRequest.result)}`,
  );
  if (crashRequest.error) console.log(`  ${crashRequest.error.code}: ${crashRequest.error.message}`);
}

/** Kills (SIGKILL) the worker process whose model process serves the request. */
async function killWorkerOf(stack: TestStack, requestId: string) {
  const pid = await stack.db.oneFirst(sql.type(z.object({ pid: z.string() }))`
    SELECT i.runtime_ref AS pid FROM model_instances i JOIN work_requests r ON r.instance_id = i.id WHERE r.id = ${requestId}`);
  const worker = Number(execFileSync('ps', ['-o', 'ppid=', '-p', pid], { encoding: 'utf8' }).trim());
  process.kill(worker, 'SIGKILL');
}

runBenchmark(benchmark, { worker: workerShape === 'in-process' });
