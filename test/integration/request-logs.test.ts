import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/logger';
import { eventually } from '../support/eventually';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';

// A worker process on its own, logging at info as deployed: its stdout is JSON lines.
let stack: TestStack;
let worker: ChildProcess;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  worker = await startWorkerProcess(workerTargetOf(stack), { LOG_LEVEL: 'info' });
  createInterface({ input: worker.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      lines.push({ notJson: line });
    }
  });
}, 60_000);
afterAll(async () => {
  if (worker) await stopWorkerProcess(worker);
  await stack?.stop();
});

describe('request logs', () => {
  it('one JSON line per request end with ids, model, status and timings; every line of its activities names it; no input', async () => {
    const secret = `secret-${randomUUID()}`;
    const token = await stack.api.anonymousToken();
    const done = (
      await stack.api.submit(token, {
        model: 'echo',
        input: { inputs: [{ name: 't', shape: [1], datatype: 'BYTES', data: [secret] }] },
      })
    ).body.id;
    const failed = (
      await stack.api.submit(token, {
        model: 'fail',
        input: { inputs: [{ name: 't', shape: [1], datatype: 'BYTES', data: [secret] }] },
      })
    ).body.id;
    await stack.api.waitUntilFinal(token, done);
    await stack.api.waitUntilFinal(token, failed);

    const ends = await eventually(
      async () => lines.filter((line) => line.msg === 'request ended'),
      (found) => found.length === 2,
    );
    expect(ends.find((line) => line.requestId === done)).toMatchObject({
      level: 30,
      name: 'podium-worker',
      model: 'echo',
      status: 'COMPLETE',
      workflowId: `request-${done}`,
      queueWaitMs: expect.any(Number),
      processingMs: expect.any(Number),
      totalMs: expect.any(Number),
    });
    expect(ends.find((line) => line.requestId === done)).not.toHaveProperty('errorCode');
    expect(ends.find((line) => line.requestId === failed)).toMatchObject({
      model: 'fail',
      status: 'FAILED',
      errorCode: 'MODEL_ERROR',
    });

    const ofRequests = lines.filter(
      (line) => typeof line.workflowId === 'string' && line.workflowId.startsWith('request-') && line.activityType,
    );
    expect(ofRequests.length).toBeGreaterThan(2); // the failing model's retried inference says so too
    for (const line of ofRequests) expect(line.requestId).toBe((line.workflowId as string).replace('request-', ''));
    expect(lines.filter((line) => line.notJson)).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it("log an operator's malformed signal, saying what was wrong, and change nothing", async () => {
    const token = await stack.api.anonymousToken();
    const id = (
      await stack.api.submit(token, { model: 'echo', input: { ...echoInput, parameters: { delay_ms: 1_500 } } })
    ).body.id as string;
    await stack.temporal.workflow
      .getHandle(`request-${id}`)
      .signal('operatorFail', { reason: 'no actor', extra: true });
    const refused = await eventually(
      async () => lines.find((line) => line.msg === 'operator signal refused' && line.workflowId === `request-${id}`),
      (line) => line !== undefined,
    );
    expect(refused).toMatchObject({
      level: 40,
      signal: 'operatorFail',
      problems: ['"actor": who sends it, 1-100 characters', '"extra" is not a field of this signal'],
    });
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
  });

  it('redact inputs, results, passwords, tokens and model environments wherever a line carries them, however deep', () => {
    const written: string[] = [];
    const logger = createLogger(
      'info',
      'test',
      new Writable({ write: (chunk, _encoding, done) => (written.push(chunk.toString()), done()) }),
    );
    const model = { id: 'm', env: { HF_TOKEN: 'hf_secret' }, containerEnv: { HF_TOKEN: 'hf_secret' } };
    logger.info(
      {
        input: { inputs: [] },
        request: { result: 'r', password: 'p', token: 't' },
        requestId: 'kept',
        change: { before: { settings: model }, after: [{ settings: model }] },
      },
      'hello',
    );
    logger.warn({ err: new Error('boom') }, 'failed');
    const line = JSON.parse(written[0]!);
    expect(line).toMatchObject({
      input: '[redacted]',
      request: { result: '[redacted]', password: '[redacted]', token: '[redacted]' },
      requestId: 'kept',
    });
    expect(line.change.before.settings).toEqual({ id: 'm', env: '[redacted]', containerEnv: '[redacted]' });
    expect(line.change.after[0].settings.env).toBe('[redacted]');
    expect(written.join('')).not.toContain('hf_secret');
    // Errors still reach the line whole, through pino's serializer.
    expect(JSON.parse(written[1]!).err).toMatchObject({
      type: 'Error',
      message: 'boom',
      stack: expect.stringContaining('boom'),
    });
  });
});
