import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensurePythonTool, tritonclient } from '../../infra/python-tools';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
let token: string;
let python: string;
beforeAll(async () => {
  python = path.join(
    ensurePythonTool(tritonclient, () => undefined),
    'bin',
    'python',
  );
  stack = await startTestStack();
  token = await stack.api.anonymousToken();
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

const infer = (
  model: string,
  json: unknown,
  options: { token?: string; query?: string; headers?: Record<string, string> } = {},
) =>
  stack.api.call('POST', `/v2/models/${model}/infer${options.query ?? ''}`, {
    token: options.token ?? token,
    json,
    headers: options.headers,
  });

describe('the Open Inference Protocol v2 front door', () => {
  it('works for tritonclient unchanged: health, model readiness and metadata, a JSON infer', async () => {
    const { stdout } = await promisify(execFile)(python, [
      path.resolve(__dirname, '../support/oip_client.py'),
      stack.api.baseUrl.replace(/^http:\/\//, ''),
      token,
      'echo',
    ]);
    expect(JSON.parse(stdout)).toEqual({
      live: true,
      ready: true,
      modelReady: true,
      metadata: {
        name: 'echo',
        versions: [],
        platform: 'podium-node',
        inputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
        outputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
      },
      infer: {
        id: 'from-tritonclient',
        numbers: [
          [1, 2],
          [3, 4.5],
        ],
      },
      withoutToken: expect.stringContaining('token'),
      unknownModel: 'There is no model "no-such-model"; GET /api/models lists them',
    });
  }, 60_000);

  it('is a durable work request like POST /api/requests: listed, with stats, named in a header', async () => {
    const answer = await infer('echo', echoInput);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      model_name: 'echo',
      outputs: [
        {
          name: 'numbers',
          data: [
            [1, 2],
            [3, 4.5],
          ],
        },
      ],
    });
    const requestId = answer.headers.get('podium-request-id')!;
    const { body } = await stack.api.call('GET', `/api/requests/${requestId}`, { token });
    expect(body).toMatchObject({ status: 'COMPLETE', model: 'echo' });
    expect(
      await stack.db.oneFirst(
        sql.type(
          z.object({ n: z.number() }),
        )`SELECT count(*)::int AS n FROM request_stats WHERE request_id = ${requestId}`,
      ),
    ).toBe(1);
  });

  it("round-trips every datatype bit-exact with tritonclient's defaults: binary tensors in and out", async () => {
    const { stdout } = await promisify(execFile)(python, [
      path.resolve(__dirname, '../support/oip_binary_client.py'),
      stack.api.baseUrl.replace(/^http:\/\//, ''),
      token,
      'echo',
    ]);
    const seen = JSON.parse(stdout) as Record<string, boolean>;
    expect(Object.keys(seen)).toHaveLength(13);
    expect(Object.entries(seen).filter(([, exact]) => !exact)).toEqual([]);
  }, 120_000);

  it('refuses a binary body it cannot read, with a code, and stores nothing', async () => {
    const header = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] }),
    );
    const post = (body: Buffer, headerLength: number) =>
      stack.api.call('POST', '/v2/models/echo/infer', {
        token,
        body: body as unknown as string,
        headers: {
          'inference-header-content-length': String(headerLength),
          'content-type': 'application/octet-stream',
        },
      });
    const count = () =>
      stack.db.oneFirst(
        sql.type(z.object({ n: z.number() }))`
          SELECT ((SELECT count(*) FROM work_requests) + (SELECT count(*) FROM payloads) + (SELECT count(*) FROM payload_chunks))::int AS n`,
      );
    const before = await count();
    const truncated = await post(Buffer.concat([header, Buffer.alloc(4)]), header.length);
    expect(truncated.status).toBe(400);
    expect(truncated.body.code).toBe('BINARY_DATA_TRUNCATED');
    const trailing = await post(Buffer.concat([header, Buffer.alloc(12)]), header.length);
    expect(trailing.body.code).toBe('BINARY_DATA_TRAILING');
    const wrongLength = await post(Buffer.concat([header, Buffer.alloc(8)]), header.length + 100);
    expect(wrongLength.body.code).toBe('INVALID_INFERENCE_HEADER_LENGTH');
    const bytesHeader = Buffer.from(
      JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } }] }),
    );
    const badPrefix = await post(Buffer.concat([bytesHeader, Buffer.from([9, 0, 0, 0, 1])]), bytesHeader.length);
    expect(badPrefix.body.code).toBe('BINARY_BYTES_MALFORMED');
    const tooBig = await post(Buffer.concat([header, Buffer.alloc(9 * 1024 * 1024)]), header.length);
    expect(tooBig.status).toBe(413);
    expect(await count()).toBe(before);
  });

  it("answers a model's failure in OIP's shape, with the status its code calls for", async () => {
    await addTestModel(stack.db, { id: 'oip-fail', like: 'fail' });
    const failed = await infer('oip-fail', echoInput);
    expect(failed.status).toBe(502); // the model failed, not Podium: a bad gateway
    expect(failed.body).toEqual({
      error: expect.any(String),
      code: 'MODEL_ERROR',
      requestId: failed.headers.get('podium-request-id'),
    });
    const refused = await infer('echo', { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1] }] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: expect.stringContaining('needs 2 element(s)'),
      code: 'VALIDATION_FAILED',
    });
    const binary = await infer('echo', echoInput, { headers: { 'inference-header-content-length': '1000' } });
    expect(binary.status).toBe(400);
    expect(binary.body).toMatchObject({ code: 'INVALID_INFERENCE_HEADER_LENGTH' });
  });

  it('answers a request that outlives its wait with 202, its id and where to look', async () => {
    const slow = await infer('echo', { ...echoInput, parameters: { delay_ms: 1_500 } }, { query: '?wait=0' });
    expect(slow.status).toBe(202);
    expect(slow.headers.get('location')).toBe(`/api/requests/${slow.body.id}`);
    expect(slow.body).toMatchObject({
      status: expect.stringMatching(/REQUESTED|PROCESSING/),
      links: { self: `/api/requests/${slow.body.id}` },
    });
    expect((await stack.api.waitUntilFinal(token, slow.body.id)).request.status).toBe('COMPLETE');
  });

  it('answers unknown paths under /v2 in its own shape, not with the web app', async () => {
    const missing = await stack.api.call('GET', '/v2/repository/index');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', error: expect.any(String) });
  });
});
