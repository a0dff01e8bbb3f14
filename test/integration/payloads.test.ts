import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { sql } from 'slonik';
import { z } from 'zod';
import { writePayload } from '../../db/payloads';
import { startS3Server, type S3Server } from '../../infra/seaweedfs';
import { workflowNames, type PodiumWorkflows } from '../../workflows/contracts';
import { binaryInferBody, postBinaryInfer, readBinaryAnswer } from '../support/binary-inference';
import { eventually } from '../support/eventually';
import { startTestStack, type TestStack } from '../support/test-stack';

/** Each store passes the same tests: PostgreSQL (the default) and S3 (a real SeaweedFS). */
const stores = [
  { name: 'postgres', s3: false },
  { name: 's3', s3: true },
] as const;

const count = z.object({ n: z.number() });

describe.each(stores)('payloads in $name', ({ s3 }) => {
  let stack: TestStack;
  let server: S3Server | null = null;
  let token: string;
  let storedObjects: () => Promise<number>;
  const saved = { ...process.env };

  beforeAll(async () => {
    let env: Record<string, string> = {};
    if (s3) {
      server = await startS3Server();
      await server.createBucket('podium-payloads');
      // The store finds its endpoint and credentials the usual AWS way: here, the environment.
      Object.assign(process.env, server.env);
      env = { PAYLOAD_STORE: 's3://podium-payloads/tests', PAYLOAD_STORE_PATH_STYLE: 'true' };
    }
    stack = await startTestStack({ env: { ...env, RESULT_INLINE_LIMIT: '4kb' } });
    token = await stack.api.anonymousToken();
    if (s3) {
      const client = new S3Client({ forcePathStyle: true });
      // Objects, and multipart uploads begun and not finished (an abort that failed would leave parts).
      storedObjects = async () => {
        const objects = await client.send(new ListObjectsV2Command({ Bucket: 'podium-payloads', Prefix: 'tests/' }));
        const uploads = await client.send(
          new ListMultipartUploadsCommand({ Bucket: 'podium-payloads', Prefix: 'tests/' }),
        );
        return (objects.KeyCount ?? 0) + (uploads.Uploads?.length ?? 0);
      };
    } else {
      storedObjects = () => stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM payload_chunks`);
    }
  }, 900_000);
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
    process.env = saved;
  });

  const payloadRows = () => stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM payloads`);

  const upload = (bytes: Buffer, as = token) =>
    stack.api.call('POST', '/api/payloads', {
      token: as,
      body: bytes as unknown as string,
      headers: { 'content-type': 'application/octet-stream' },
    });

  const floats = (count: number) => {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = Math.fround(Math.sin(i) * 1e6);
    return Buffer.from(values.buffer);
  };

  it('takes an upload that a request names, sends it to the model, and answers small outputs inline', async () => {
    const bytes = floats(4);
    const uploaded = await upload(bytes);
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({
      id: expect.any(String),
      size: 16,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      expiresAt: expect.any(String),
    });
    const { body } = await stack.api.submit(token, {
      model: 'echo',
      input: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { payload: uploaded.body.id } }] },
    });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('COMPLETE');
    expect(request.result).toMatchObject({
      outputs: [
        { name: 'x', datatype: 'FP32', shape: [2, 2], data: [...new Float32Array(bytes.buffer, bytes.byteOffset, 4)] },
      ],
    });
    // The upload is now the request's input; naming it again is refused.
    const again = await stack.api.submit(token, {
      model: 'echo',
      input: { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], parameters: { payload: uploaded.body.id } }] },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PAYLOAD_ALREADY_USED');
  });

  it("refuses an upload that is not the caller's, or does not fit its tensor, and stores no request", async () => {
    const mine = await upload(floats(3));
    const stranger = await stack.api.anonymousToken();
    const named = (payload: string, as = token, shape = [3]) =>
      stack.api.submit(as, {
        model: 'echo',
        input: { inputs: [{ name: 'x', datatype: 'FP32', shape, parameters: { payload } }] },
      });
    const before = await stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM work_requests`);
    expect((await named(mine.body.id, stranger)).body.error.code).toBe('UNKNOWN_PAYLOAD');
    expect((await named(mine.body.id, token, [4])).body.error.code).toBe('BINARY_DATA_SIZE_MISMATCH');
    expect((await named('00000000-0000-4000-8000-000000000001')).body.error.code).toBe('UNKNOWN_PAYLOAD');
    const bytesUpload = await upload(Buffer.from([9, 0, 0, 0, 1]));
    const malformed = await stack.api.submit(token, {
      model: 'echo',
      input: { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { payload: bytesUpload.body.id } }] },
    });
    expect(malformed.body.error.code).toBe('BINARY_BYTES_MALFORMED');
    expect(await stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM work_requests`)).toBe(before);
  });

  it('streams a binary body to a model that takes binary and back, bit-exact; a large output is a signed link', async () => {
    const bytes = floats(1_500_000); // 6 MB
    const asked = binaryInferBody([{ name: 'x', datatype: 'FP32', shape: [1_500_000], bytes }]);
    const answer = await postBinaryInfer(`${stack.api.baseUrl}/v2/models/echo/infer`, token, asked);
    expect(answer.status).toBe(200);
    const read = readBinaryAnswer(answer.bytes, Number(answer.headers.get('inference-header-content-length')));
    expect(read.trailing).toBe(0);
    expect(read.outputs.get('x')!.equals(bytes)).toBe(true);

    // In JSON, an output over RESULT_INLINE_LIMIT is a signed, expiring link to its bytes.
    const requestId = answer.headers.get('podium-request-id')!;
    const seen = await stack.api.call('GET', `/api/requests/${requestId}`, { token });
    const [output] = seen.body.result.outputs;
    expect(output).toEqual({
      name: 'x',
      datatype: 'FP32',
      shape: [1_500_000],
      parameters: {
        payload: expect.any(String),
        size: bytes.length,
        url: expect.any(String),
        expiresAt: expect.any(String),
      },
    });
    const download = await fetch(`${stack.api.baseUrl}${output.parameters.url}`); // no token: the link is enough
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    // One character of the signature changed (to another: a signature may start with `x`).
    const forgedUrl = output.parameters.url.replace(
      /signature=(.)/,
      (_: string, first: string) => `signature=${first === 'x' ? 'y' : 'x'}`,
    );
    const forged = await fetch(`${stack.api.baseUrl}${forgedUrl}`);
    expect(forged.status).toBe(403);
    const stranger = await stack.api.anonymousToken();
    const notTheirs = await stack.api.call('GET', `/api/payloads/${output.parameters.payload}`, { token: stranger });
    expect(notTheirs.status).toBe(404);
  }, 120_000);

  it('converts payload tensors to JSON for a model whose runtime takes JSON only', async () => {
    const text = Buffer.from('I love this wonderful product');
    const element = Buffer.alloc(4);
    element.writeUInt32LE(text.length);
    const uploaded = await upload(Buffer.concat([element, text]));
    const { body } = await stack.api.submit(token, {
      model: 'sentiment',
      input: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: { payload: uploaded.body.id } }] },
    });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('COMPLETE');
    expect((request.result as { outputs: unknown[] }).outputs[0]).toMatchObject({ name: 'label', data: ['positive'] });
  });

  it('answers a retried binary body (the same Idempotency-Key) with the first request, keeping one copy', async () => {
    const asked = binaryInferBody([{ name: 'x', datatype: 'UINT8', shape: [64], bytes: randomBytes(64) }]);
    const headers = { 'idempotency-key': `retry-${Date.now()}` };
    const url = `${stack.api.baseUrl}/v2/models/echo/infer`;
    const first = await postBinaryInfer(url, token, asked, headers);
    const rowsAfterFirst = await payloadRows();
    const second = await postBinaryInfer(url, token, asked, headers);
    expect(second.status).toBe(200);
    expect(second.headers.get('podium-request-id')).toBe(first.headers.get('podium-request-id'));
    expect(await payloadRows()).toBe(rowsAfterFirst);
  });

  it('leaves nothing of an upload its client abandons halfway', async () => {
    const rows = await payloadRows();
    const objects = await storedObjects();
    const url = new URL(`${stack.api.baseUrl}/api/payloads`);
    const cut = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(6 * 1024 * 1024),
      },
    });
    cut.on('error', () => undefined); // the cut itself
    cut.write(randomBytes(2 * 1024 * 1024));
    // Once the server has begun to store it, the client goes away.
    expect(await eventually(payloadRows, (n) => n > rows, 10_000)).toBeGreaterThan(rows);
    cut.destroy();
    expect(await eventually(payloadRows, (n) => n === rows, 10_000)).toBe(rows);
    expect(await eventually(storedObjects, (n) => n === objects, 10_000)).toBe(objects);
  });

  it('refuses an over-limit upload with 413 before reading it', async () => {
    // Headers alone: the answer comes from Content-Length, before a byte of the body is sent.
    const early = httpRequest(new URL(`${stack.api.baseUrl}/api/payloads`), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(9 * 1024 * 1024),
      },
    });
    early.on('error', () => undefined);
    early.flushHeaders();
    const status = await new Promise<number>((resolve) =>
      early.once('response', (answer) => resolve(answer.statusCode!)),
    );
    early.destroy();
    expect(status).toBe(413);
    const over = await upload(Buffer.alloc(9 * 1024 * 1024));
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('removes what a try wrote of the result when its request is cancelled, keeping the input', async () => {
    const input = await upload(floats(2));
    const { body } = await stack.api.submit(token, {
      model: 'echo',
      input: {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { payload: input.body.id } }],
        parameters: { delay_ms: 20_000 },
      },
    });
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${body.id}`, { token })).body.status,
      (status) => status === 'PROCESSING',
    );
    // What a try writes of a binary answer before the request ends: a result payload.
    const owner = await stack.db.oneFirst(sql.type(z.object({ owner: z.string() }))`
      SELECT COALESCE(user_id, session_id) AS owner FROM work_requests WHERE id = ${body.id}`);
    const partial = randomUUID();
    await writePayload(
      stack.db,
      stack.payloads,
      { id: partial, ownerId: owner, requestId: body.id, role: 'result' },
      (async function* () {
        yield floats(2);
      })(),
    );
    expect((await stack.api.call('POST', `/api/requests/${body.id}/cancel`, { token })).status).toBe(202);
    expect((await stack.api.waitUntilFinal(token, body.id)).request.status).toBe('CANCELLED');
    const left = () =>
      stack.db.anyFirst(
        sql.type(z.object({ role: z.string() }))`SELECT role FROM payloads WHERE request_id = ${body.id}`,
      );
    expect(await eventually(left, (roles) => roles.length === 1)).toEqual(['input']);
  });

  it('deletes payloads with their requests at retention, and uploads no request named', async () => {
    const { body } = await stack.api.submit(token, {
      model: 'echo',
      input: {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [2], parameters: { payload: (await upload(floats(2))).body.id } },
        ],
      },
    });
    await stack.api.waitUntilFinal(token, body.id);
    const unnamed = await upload(floats(8));
    await stack.db.query(sql.unsafe`UPDATE work_requests SET created_at = now() - interval '8 days'`);
    // This upload, and those the tests before left unnamed, are past the upload lifetime.
    await stack.db.query(
      sql.unsafe`UPDATE payloads SET created_at = now() - interval '2 days' WHERE request_id IS NULL`,
    );
    expect(unnamed.status).toBe(201);
    await stack.temporal.workflow.execute<PodiumWorkflows['cleanupOldRequests']>(workflowNames.cleanupOldRequests, {
      taskQueue: stack.taskQueue,
      workflowId: `cleanup-payloads-${Date.now()}`,
      args: [{ retentionDays: 7, actor: 'ops:test', reason: 'payload retention test' }],
    });
    expect(await payloadRows()).toBe(0);
    expect(await storedObjects()).toBe(0);
  }, 120_000);
});
