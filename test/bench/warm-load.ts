import { performance } from 'node:perf_hooks';
import { addTestModel } from '../support/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { cpuPerOperation, type CpuParts } from './process-cpu';

/** An echo model of `instances` instances × `concurrency` slots, kept warm through a benchmark. */
export async function addWarmEchoModel(
  stack: TestStack,
  id: string,
  options: { instances: number; concurrency: number },
): Promise<void> {
  await addTestModel(stack.db, {
    id,
    minInstances: options.instances,
    maxInstances: options.instances,
    keepWarmSeconds: 600,
    maxConcurrency: options.concurrency,
  });
}

/** One echo request as a client makes it: submit, wait for COMPLETE; resolves to the time it took. */
export function echoRequester(stack: TestStack, token: string, model: string): () => Promise<number> {
  return async () => {
    const t0 = performance.now();
    const id = await stack.api.submitAccepted(token, { model, input: echoInput });
    const done = await stack.api.call('GET', `/api/requests/${id}?wait=60`, { token });
    if (done.body.status !== 'COMPLETE')
      throw new Error(`request ended ${done.body.status}: ${JSON.stringify(done.body.error)}`);
    return performance.now() - t0;
  };
}

export type WarmLoad = {
  /** Submit → COMPLETE of every request, in ms. */
  latencies: number[];
  startedAt: Date;
  seconds: number;
  perSecond: number;
  /** The platform's CPU per completed request (process-cpu.ts). */
  cpu: { cpuMsPerOperation: number; byPart: CpuParts; idleCores: number };
};

/**
 * `clients` clients, each submitting an echo request and waiting for its end before the next,
 * for `seconds`, after a warm-up that has the model's instances ready.
 */
export async function runWarmLoad(
  stack: TestStack,
  options: {
    model: string;
    clients: number;
    seconds: number;
    warmUpRequests: number;
    /** Then the load itself, untimed, this long: the process's code compiled and hot. */
    warmUpSeconds?: number;
  },
): Promise<WarmLoad> {
  const request = echoRequester(stack, await stack.api.anonymousToken(), options.model);
  await Promise.all(Array.from({ length: options.warmUpRequests }, request));
  const warmUntil = performance.now() + (options.warmUpSeconds ?? 0) * 1000;
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < warmUntil) await request();
    }),
  );
  const latencies: number[] = [];
  let startedAt = new Date();
  let started = 0;
  const cpu = await cpuPerOperation(
    () => {
      startedAt = new Date();
      started = performance.now();
      const deadline = started + options.seconds * 1000;
      return Promise.all(
        Array.from({ length: options.clients }, async () => {
          while (performance.now() < deadline) latencies.push(await request());
        }),
      );
    },
    () => latencies.length,
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies, startedAt, seconds, perSecond: latencies.length / seconds, cpu };
}
