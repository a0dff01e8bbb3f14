import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import {
  InvalidInput,
  Podium,
  RequestCancelled,
  RequestFailed,
  tensor,
  verifyWebhook,
  WaitTimeout,
  type TensorLike,
} from '../../clients/typescript/src';
import { projectRoot } from '../../lib/project-root';
import { startTcpProxy } from '../support/tcp-proxy';
import { useTestStack } from '../support/test-stack';

const run = promisify(execFile);
const stack = useTestStack();
const slow = { delay_ms: 60_000 };
const idRow = z.object({ id: z.string() });
const slowEcho = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32' as const, data: [1] }], parameters: slow };

let podium: Podium;
beforeAll(async () => {
  podium = await Podium.anonymous(stack.baseUrl);
});

describe('the TypeScript client (clients/typescript)', () => {
  const roundTrips: [string, TensorLike][] = [
    ['BOOL', [[true, false]]],
    ['INT8', Int8Array.of(-128, 127)],
    ['INT16', Int16Array.of(-32768, 32767)],
    ['INT32', Int32Array.of(-(2 ** 31), 2 ** 31 - 1)],
    ['INT64 within 2^53', BigInt64Array.of(-(2n ** 52n), 2n ** 52n)],
    ['INT64 past 2^53 (an upload)', BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n)],
    ['UINT8', Uint8Array.of(0, 255)],
    ['UINT16', Uint16Array.of(0, 65535)],
    ['UINT32', Uint32Array.of(0, 2 ** 32 - 1)],
    ['UINT64 past 2^53 (an upload)', BigUint64Array.of(0n, 2n ** 64n - 1n)],
    ['FP32', tensor(Float32Array.of(1.5, -3.0625, 0.25, 8), [2, 2])],
    ['FP32 with NaN and infinity (an upload)', Float32Array.of(NaN, Infinity, -Infinity)],
    ['FP32 of 256 kB (an upload)', Float32Array.from({ length: 65_536 }, (_, index) => index / 7)],
    ['FP64', [[1e-300, -2.5e300]]],
    ['BYTES', [['hello', 'wörld']]],
  ];
  it.each(roundTrips)('sends %s to a model and gets it back the same', async (_name, value) => {
    const sent = value as { data?: unknown; shape?: number[] };
    const { numbers } = await podium.run('echo', { numbers: value });
    if (ArrayBuffer.isView(value)) {
      expect(numbers!.data.constructor).toBe(value.constructor);
      expect(numbers!.shape).toEqual([(value as Float32Array).length]);
      expect(Array.from(numbers!.data as Float32Array)).toEqual(Array.from(value as Float32Array));
    } else if (sent.shape) {
      expect(numbers!.shape).toEqual(sent.shape);
      expect(Array.from(numbers!.data as Float32Array)).toEqual(Array.from(sent.data as Float32Array));
    } else {
      expect(numbers!.shape).toEqual([1, 2]);
      expect(Array.from(numbers!.data as ArrayLike<unknown>)).toEqual((value as unknown[][]).flat());
    }
  });

  it('submits at once, waits for the end, reads the request again and finds it in the list', async () => {
    const request = await podium.submit('sentiment', { text: ['What a lovely day', 'This is awful'] });
    expect(['REQUESTED', 'PROCESSING', 'COMPLETE']).toContain(request.status);
    expect((await request.wait({ timeoutMs: 60_000 })).status).toBe('COMPLETE');
    expect((await request.outputs()).label!.data).toEqual(['positive', 'negative']);
    expect((await podium.get(request.id)).status).toBe('COMPLETE');
    const listed: string[] = [];
    for await (const each of podium.requests({ pageSize: 1 })) listed.push(each.id);
    expect(listed).toContain(request.id);
    expect(new Set(listed).size).toBe(listed.length); // page after page, nothing twice
  });

  it('cancels a running request, and its result says so with its id', async () => {
    const request = await podium.submit('echo', null, { input: slowEcho });
    expect((await (await request.cancel()).wait({ timeoutMs: 30_000 })).status).toBe('CANCELLED');
    await expect(request.outputs()).rejects.toEqual(expect.any(RequestCancelled));
    await expect(request.outputs()).rejects.toMatchObject({ requestId: request.id });
  });

  it('rejects a failed request with its code and id', async () => {
    const failed = await podium.run('fail', { numbers: [[1]] }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RequestFailed);
    expect(failed).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
  });

  it('rejects a refused call with the API’s code and status, and nothing is made', async () => {
    const refused = await podium.submit('no-such-model', { x: [1] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidInput);
    expect(refused).toMatchObject({ code: 'UNKNOWN_MODEL', status: 400 });
  });

  it('gives up waiting when told, and the request goes on', async () => {
    const request = await podium.submit('echo', null, { input: slowEcho });
    await expect(request.wait({ timeoutMs: 1500 })).rejects.toEqual(expect.any(WaitTimeout));
    expect(['REQUESTED', 'PROCESSING']).toContain((await podium.get(request.id)).status);
    await request.cancel();
  });

  it('retries a submission answered 503 with its key, and one request is made', async () => {
    let submissions = 0;
    // Every call goes on, but the first submission's answer is lost behind a 503, as a proxy
    // would lose it: the request was made, the client does not know it.
    const losesFirstAnswer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'POST' && String(input).endsWith('/api/requests') && ++submissions === 1) {
        await response.body?.cancel();
        return Response.json(
          { error: { code: 'UNAVAILABLE', message: 'injected' } },
          { status: 503, headers: { 'retry-after': '0' } },
        );
      }
      return response;
    };
    const client = await Podium.anonymous(stack.baseUrl, { fetch: losesFirstAnswer });
    const idempotencyKey = `ts-503-${crypto.randomUUID()}`;
    const request = await client.submit('echo', { numbers: [[1, 2]] }, { idempotencyKey });
    expect(submissions).toBe(2);
    const made = await stack.db.any(
      sql.type(idRow)`SELECT id FROM work_requests WHERE idempotency_key = ${idempotencyKey}`,
    );
    expect(made.map((row) => row.id)).toEqual([request.id]);
    expect((await request.wait({ timeoutMs: 60_000 })).status).toBe('COMPLETE');
  });

  it('resumes a long poll that a proxy cuts at 5 s idle, and the wait ends right', async () => {
    const port = Number(new URL(stack.baseUrl).port);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port }, { idleCutMs: 5000 });
    try {
      const throughProxy = new Podium({ baseUrl: `http://127.0.0.1:${proxy.port}`, credentials: podium.credentials });
      const request = await throughProxy.submit('echo', null, {
        input: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [7] }], parameters: { delay_ms: 12_000 } },
      });
      expect((await request.wait({ timeoutMs: 90_000 })).status).toBe('COMPLETE');
      expect(proxy.idleCuts).toBeGreaterThanOrEqual(1);
      expect(Array.from((await request.outputs()).x!.data as Float32Array)).toEqual([7]);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('streams a chat answer’s events that add up to its result', async () => {
    const request = await podium.submit('markov', null, {
      input: {
        url: '/v1/chat/completions',
        body: { messages: [{ role: 'user', content: 'We hold these' }], stream: true, max_tokens: 20 },
      },
    });
    let streamed = '';
    const kinds: string[] = [];
    for await (const event of request.events()) {
      kinds.push(event.kind);
      if (event.kind === 'chunk') streamed += event.data.text;
    }
    expect(kinds.at(-1)).toBe('end');
    const answer = (await request.wait({ timeoutMs: 60_000 })).endResult() as unknown as {
      choices: { message: { content: string } }[];
    };
    expect(streamed).toBe(answer.choices[0]!.message.content);
  });

  it('verifies a real webhook delivery with the owner’s secret, and not with another', async () => {
    const deliveries: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const receiver = createServer((incoming, answer) => {
      const parts: Buffer[] = [];
      incoming.on('data', (part: Buffer) => parts.push(part));
      incoming.on('end', () => {
        deliveries.push({ headers: incoming.headers, body: Buffer.concat(parts) });
        answer.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const secret = await podium.webhookSecret();
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const request = await podium.submit('echo', { numbers: [[1]] }, { webhook: hook });
      await request.wait({ timeoutMs: 60_000 });
      for (const giveUp = Date.now() + 60_000; deliveries.length === 0 && Date.now() < giveUp;)
        await new Promise((resolve) => setTimeout(resolve, 200));
      const { headers, body } = deliveries[0]!;
      expect(JSON.parse(body.toString()).id).toBe(request.id);
      expect(await verifyWebhook(secret, headers, body)).toBe(true);
      expect(await verifyWebhook('whsec_not_it', headers, body)).toBe(false);
      expect(await verifyWebhook(secret, headers, Buffer.concat([body, Buffer.from(' ')]))).toBe(false);
    } finally {
      receiver.close();
    }
  });

  it('signs in, and renews an expired access token by itself', async () => {
    const { username, password } = await stack.signUpAdmin('tsclient', []);
    const signedIn = await Podium.login(stack.baseUrl, username, password);
    const { refreshToken } = signedIn.credentials as unknown as { refreshToken: string };
    // A token the API does not know stands for an expired one: the 401 sends the client to renew it.
    const renewing = new Podium({ baseUrl: stack.baseUrl, token: 'pod_at_not-a-live-token', refreshToken });
    const request = await renewing.submit('echo', { numbers: [[3]] });
    expect((await request.wait({ timeoutMs: 60_000 })).status).toBe('COMPLETE');
    expect((renewing.credentials as unknown as { token: string }).token).not.toBe('pod_at_not-a-live-token');
  });

  it('builds as a package that installs, type-checks and runs in Node', async () => {
    const consumer = await mkdtemp(path.join(tmpdir(), 'podium-ts-client-'));
    try {
      await run(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'infra/typescript-client-build.ts')], {
        cwd: projectRoot,
      });
      const { stdout: packed } = await run('npm', ['pack', '--silent', '--pack-destination', consumer], {
        cwd: path.join(projectRoot, 'clients/typescript'),
      });
      await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
      await run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefer-offline', `./${packed.trim()}`], {
        cwd: consumer,
      });
      // What a user writes, checked strictly against the package's own declarations (skipLibCheck off).
      await writeFile(
        path.join(consumer, 'consumer.ts'),
        [
          "import { Podium, type Outputs } from '@podium/client';",
          'declare const process: { env: Record<string, string | undefined> };',
          'const podium = await Podium.anonymous(process.env.PODIUM_URL!);',
          "const outputs: Outputs = await podium.run('echo', { text: ['hello from a package'] });",
          'console.log(outputs.text!.data[0]);',
        ].join('\n'),
      );
      await writeFile(
        path.join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            target: 'es2022',
            lib: ['es2022', 'dom'],
            strict: true,
            noEmit: true,
            types: [],
          },
          files: ['consumer.ts'],
        }),
      );
      const checked = await run(path.join(projectRoot, 'node_modules/.bin/tsc'), ['-p', consumer]).catch(
        (failed: { stdout?: string }) => ({ stdout: `tsc failed:\n${failed.stdout ?? ''}` }),
      );
      expect(checked.stdout).toBe('');
      const { stdout } = await run(process.execPath, ['consumer.ts'], {
        cwd: consumer,
        env: { ...process.env, PODIUM_URL: stack.baseUrl },
      });
      expect(stdout.trim()).toBe('hello from a package');
    } finally {
      await rm(consumer, { recursive: true, force: true });
    }
  }, 240_000);
});
