import { request } from 'node:http';
import { sql } from 'slonik';
import { echoInput, useTestStack } from '../support/test-stack';

let token: string;
const stack = useTestStack({ env: { REQUEST_BODY_LIMIT: '16kb' } });
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

const countRequests = () => stack.db.oneFirst(sql.unsafe`SELECT count(*)::int AS count FROM work_requests`);

describe('bad input to POST /api/requests gets a 4xx with a code and writes nothing', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['unknown model', () => stack.api.submit(token, { model: 'nope', input: echoInput }), 400, 'UNKNOWN_MODEL'],
    [
      'malformed model id',
      () => stack.api.submit(token, { model: 'Echo!', input: echoInput }),
      400,
      'VALIDATION_FAILED',
    ],
    ['missing input', () => stack.api.submit(token, { model: 'echo' }), 400, 'VALIDATION_FAILED'],
    [
      'input without tensors',
      () => stack.api.submit(token, { model: 'echo', input: { inputs: [] } }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'data that does not fit the shape',
      () =>
        stack.api.submit(token, {
          model: 'echo',
          input: { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2] }] },
        }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'data of the wrong datatype',
      () =>
        stack.api.submit(token, {
          model: 'echo',
          input: { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: ['a'] }] },
        }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'unknown fields',
      () => stack.api.submit(token, { model: 'echo', input: echoInput, priority: 9 }),
      400,
      'VALIDATION_FAILED',
    ],
    ['a JSON array body', () => stack.api.submit(token, [1, 2]), 400, 'VALIDATION_FAILED'],
    [
      'malformed JSON',
      () =>
        stack.api.call('POST', '/api/requests', {
          token,
          body: '{"model": "echo",',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      'MALFORMED_JSON',
    ],
    [
      'a body over the size limit',
      () =>
        stack.api.submit(token, {
          model: 'echo',
          input: { inputs: [{ name: 'x', shape: [1], datatype: 'BYTES', data: ['x'.repeat(20_000)] }] },
        }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a body that is not JSON',
      () =>
        stack.api.call('POST', '/api/requests', {
          token,
          body: 'model=echo',
          headers: { 'content-type': 'text/plain' },
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'no token',
      () => stack.api.call('POST', '/api/requests', { json: { model: 'echo', input: echoInput } }),
      401,
      'AUTH_REQUIRED',
    ],
    [
      'an unknown token',
      () => stack.api.submit('pdm_' + 'A'.repeat(43), { model: 'echo', input: echoInput }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'a malformed Authorization header',
      () =>
        stack.api.call('POST', '/api/requests', {
          json: { model: 'echo', input: echoInput },
          headers: { authorization: 'Basic abc' },
        }),
      401,
      'INVALID_TOKEN',
    ],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const before = await countRequests();
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body.error).toEqual(expect.objectContaining({ code, message: expect.stringMatching(/\w+/) }));
    expect(await countRequests()).toBe(before);
  });

  it('names the failing field and the available models', async () => {
    const missing = await stack.api.submit(token, { model: 'echo' });
    expect(missing.body.error.details.issues[0].path).toEqual(['input']);
    const unknown = await stack.api.submit(token, { model: 'nope', input: echoInput });
    expect(unknown.body.error.details.available).toEqual(['echo', 'fail', 'markov', 'sentiment']);
  });
});

describe('bad input elsewhere', () => {
  it('GET /api/requests/:id needs a token and a UUID', async () => {
    expect((await stack.api.call('GET', '/api/requests/00000000-0000-4000-8000-000000000000')).status).toBe(401);
    const notUuid = await stack.api.call('GET', '/api/requests/42', { token });
    expect(notUuid.status).toBe(400);
    expect(notUuid.body.error.code).toBe('INVALID_REQUEST_ID');
    const unknown = await stack.api.call('GET', '/api/requests/00000000-0000-4000-8000-000000000000', { token });
    expect(unknown.status).toBe(404);
  });

  it('an unknown API route is a 404 with a code', async () => {
    const response = await stack.api.call('GET', '/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('a wrong method is a 405 with a code', async () => {
    const response = await stack.api.call('DELETE', '/api/models');
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('text PostgreSQL cannot store is refused at the edge', () => {
  const nul = 'a\u0000b';
  const loneSurrogate = 'a\ud800b';
  const tensor = (text: string) => ({
    model: 'echo',
    input: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] },
  });

  it.each([
    ['a NUL inside an input tensor', () => stack.api.submit(token, tensor(nul))],
    ['a lone surrogate inside an input tensor', () => stack.api.submit(token, tensor(loneSurrogate))],
    [
      'a NUL in a sign-in username',
      () => stack.api.call('POST', '/api/auth/login', { json: { username: nul, password: 'whatever it is' } }),
    ],
    [
      'a NUL in a sign-in email',
      () =>
        stack.api.call('POST', '/api/auth/login', {
          json: { email: `${nul}@example.com`, password: 'whatever it is' },
        }),
    ],
    ['a NUL in a query parameter', () => stack.api.call('GET', '/api/requests?status=a%00b', { token })],
    ['a NUL in a path parameter', () => stack.api.call('GET', '/api/requests/a%00b', { token })],
    [
      'a NUL in an admin filter',
      async () => stack.api.call('GET', '/api/admin/requests?user=a%00b', { token: (await stack.signUpAdmin()).token }),
    ],
  ])('%s: 400 INVALID_TEXT, nothing written', async (_name, send) => {
    const before = await countRequests();
    const response = await send();
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'INVALID_TEXT',
      message: expect.stringMatching(/a NUL character|a lone UTF-16 surrogate/),
    });
    expect(await countRequests()).toBe(before);
  });

  it('malformed percent-encoding in the path is a 400 too', async () => {
    const response = await stack.api.call('GET', '/api/requests/%E0%A4%A', { token });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_TEXT');
  });
});

/** A request fetch will not send (TRACE, say), over plain HTTP. */
function rawRequest(method: string, path: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const sent = request({ method, hostname, port, path }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('every method gets the JSON error shape', () => {
  it.each(['TRACE', 'QUERY', 'PROPFIND'])('%s on an API route', async (method) => {
    const response = await rawRequest(method, '/api/models');
    expect(response.status).toBe(405);
    expect(response.body.error).toMatchObject({
      code: 'METHOD_NOT_ALLOWED',
      message: expect.stringMatching(/; use .*GET/),
    });
  });
});

describe('the API describes itself', () => {
  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const { status, body } = await stack.api.call('GET', '/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const submit = body.paths['/api/requests'].post.requestBody.content['application/json'].schema;
    expect(submit.required).toEqual(['model', 'input']);
    const [oip, generateStream, openAi] = submit.properties.input.anyOf;
    expect(oip.properties.inputs.items.properties.datatype.enum).toContain('BYTES');
    expect(generateStream.properties.url.const).toBe('/v2/models/{name}/generate_stream');
    expect(openAi.oneOf.map((call: { properties: { url: { const: string } } }) => call.properties.url.const)).toEqual([
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/embeddings',
    ]);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/signup',
        '/api/auth/login',
        '/api/auth/refresh',
        '/api/auth/logout',
        '/api/auth/me',
        '/api/admin/users',
      ]),
    );
  });

  it('documents the statuses the edge and the limits answer', async () => {
    const { body } = await stack.api.call('GET', '/api/openapi.json');
    type Operation = { responses: Record<string, unknown>; requestBody?: { required?: boolean } };
    const operationsUnder = (prefix: string) =>
      Object.entries(body.paths)
        .filter(([path]) => path.startsWith(prefix))
        .flatMap(([, path]: [string, any]) => Object.values(path)) as Operation[];
    const operations = operationsUnder('/');
    // Any path or query can hold text the database cannot store: 400 INVALID_TEXT anywhere.
    // …and PostgreSQL may be out of reach: 503 DATABASE_UNAVAILABLE anywhere.
    for (const operation of operations)
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '503']));
    // A body may be too large (413) and a required one not JSON (415); the OIP front door reads
    // any body as JSON, as OIP servers do, so it answers 400 for one that is not.
    for (const operation of operationsUnder('/api/').filter((o) => o.requestBody)) {
      expect(Object.keys(operation.responses)).toEqual(
        expect.arrayContaining(operation.requestBody!.required ? ['413', '415'] : ['413']),
      );
    }
    expect(Object.keys(body.paths['/api/requests'].post.responses)).toEqual(expect.arrayContaining(['429', '503']));
    expect(Object.keys(body.paths['/api/sessions/anonymous'].post.responses)).toContain('429');
    expect(Object.keys(body.paths['/api/auth/signup'].post.responses)).toContain('429');
    expect(Object.keys(body.paths['/api/health/ready'].get.responses)).toContain('503');
  });
});
