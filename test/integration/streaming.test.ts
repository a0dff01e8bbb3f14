import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { sql } from 'slonik';
import { z } from 'zod';
import { revokeSession } from '../../db/sessions';
import { groupsFromRows, queryStats } from '../../db/stats';
import { statsQuery } from '../../domain/stats-query';
import { ensurePythonTool, openaiPython } from '../../infra/python-tools';
import { readEventStream, type ReadEvent } from '../support/event-stream';
import { chatContent } from '../support/openai-results';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack({ env: { EVENT_STREAM_HEARTBEAT_SECONDS: '1' } });

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  url: '/v1/chat/completions',
  body: { messages: [{ role: 'user', content }], stream: true, max_tokens: 40, ...extra },
});

async function submitted(token: string, input: unknown): Promise<string> {
  const { status, body } = await stack.api.submit(token, { model: 'markov', input });
  expect(status).toBe(202);
  return body.id;
}

const events = (token: string, id: string, options: Parameters<typeof readEventStream>[1] | object = {}) =>
  readEventStream(`${stack.api.baseUrl}/api/requests/${id}/events`, { token, ...options });

const textOf = (read: ReadEvent[]) =>
  read
    .filter((event) => event.event === 'chunk')
    .map((event) => event.data.text)
    .join('');

async function storedText(token: string, id: string): Promise<string> {
  const { request } = await stack.api.waitUntilFinal(token, id);
  expect(request.status).toBe('COMPLETE');
  return chatContent(request.result);
}

describe('GET /api/requests/:id/events', () => {
  it('sends the status, every chunk in order, then the end; the chunks make the stored result', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('We hold these', { token_delay_ms: 5 }));
    const read = await events(token, id);
    expect(read.status).toBe(200);
    expect(read.contentType).toMatch(/^text\/event-stream/);
    const chunks = read.events.filter((event) => event.event === 'chunk');
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.map((event) => event.data.seq)).toEqual(chunks.map((_, index) => index + 1));
    expect(read.events.at(-1)).toMatchObject({ event: 'end', data: { status: 'COMPLETE', error: null } });
    expect(read.events.filter((event) => event.event === 'status').at(-1)?.data.status).toBe('PROCESSING');
    expect(textOf(read.events)).toBe(await storedText(token, id));
  });

  it('gives a reader that comes after the end the whole stream, and one that resumes exactly the rest', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('He has refused', { token_delay_ms: 10 }));
    // A client that drops the connection after three chunks…
    const first = await events(token, id, {
      stopAfter: (_event: ReadEvent, seen: ReadEvent[]) => seen.filter((event) => event.event === 'chunk').length === 3,
    });
    const lastId = first.events.at(-1)!.id!;
    // …and comes back with the id of the last event it had.
    const rest = await events(token, id, { lastEventId: lastId });
    const joined = [...first.events, ...rest.events].filter((event) => event.event === 'chunk');
    expect(joined.map((event) => event.data.seq)).toEqual(joined.map((_, index) => index + 1));
    const full = await storedText(token, id);
    expect(textOf(first.events) + textOf(rest.events)).toBe(full);

    const late = await events(token, id);
    expect(textOf(late.events)).toBe(full);
    expect(late.events.at(-1)).toMatchObject({ event: 'end', data: { status: 'COMPLETE' } });
  });

  it('works for curl -N, and a reconnect with Last-Event-ID goes on after the last event curl printed', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('the pursuit of', { max_tokens: 30 }));
    await storedText(token, id);
    const curl = async (...headers: string[]) => {
      const args = ['-sN', '-H', `Authorization: Bearer ${token}`, ...headers.flatMap((h) => ['-H', h])];
      const { stdout } = await promisify(execFile)('curl', [...args, `${stack.api.baseUrl}/api/requests/${id}/events`]);
      return stdout
        .split('\n\n')
        .filter((block) => block.includes('event: '))
        .map((block) => ({
          id: /^id: (.*)$/m.exec(block)![1]!,
          event: /^event: (.*)$/m.exec(block)![1]!,
          data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { text?: string },
        }));
    };
    const all = await curl();
    expect(all.at(-1)!.event).toBe('end');
    const middle = all[10]!;
    const rest = await curl(`Last-Event-ID: ${middle.id}`);
    expect(rest).toEqual(all.slice(11));
  });

  it('keeps an idle stream open with a comment every heartbeat (1 s here)', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('We hold these', { max_tokens: 2, token_delay_ms: 1_000 }));
    const read = await events(token, id);
    expect(read.events.at(-1)).toMatchObject({ event: 'end', data: { status: 'COMPLETE' } });
    expect(read.comments).toContain('keep-alive');
  });

  it('lets many readers follow one request, each getting the same chunks', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('the Laws of', { token_delay_ms: 5 }));
    const readers = await Promise.all([1, 2, 3, 4].map(() => events(token, id)));
    const full = await storedText(token, id);
    for (const reader of readers) expect(textOf(reader.events)).toBe(full);
  });

  it("follows a request that does not stream (status and end), and refuses another's request and a made-up Last-Event-ID", async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
    const read = await events(token, body.id);
    expect(read.events.at(-1)).toMatchObject({ event: 'end', data: { status: 'COMPLETE' } });
    expect(read.events.filter((event) => event.event === 'chunk')).toEqual([]);

    const stranger = await stack.api.anonymousToken();
    expect((await events(stranger, body.id)).status).toBe(404);
    const invented = await events(token, body.id, { lastEventId: 'from-the-middle' });
    expect(invented.status).toBe(400);
    expect(invented.body).toMatchObject({ error: { code: 'INVALID_LAST_EVENT_ID' } });
  });

  it('goes on with no token twice when the model process dies in the middle of the stream', async () => {
    const token = await stack.api.anonymousToken();
    const id = await submitted(token, chat('the Right of', { token_delay_ms: 20, max_tokens: 100 }));
    let killed = false;
    const read = await events(token, id, {
      stopAfter: (event: ReadEvent, seen: ReadEvent[]) => {
        if (!killed && seen.filter((one) => one.event === 'chunk').length === 10) {
          killed = true;
          void stack.db
            .oneFirst(
              sql.type(z.object({ pid: z.string() }))`
                SELECT i.runtime_ref AS pid FROM model_instances i JOIN work_requests r ON r.instance_id = i.id WHERE r.id = ${id}`,
            )
            .then((pid) => process.kill(Number(pid), 'SIGKILL'));
        }
        return event.event === 'end';
      },
    });
    expect(killed).toBe(true);
    expect(read.events.at(-1)).toEqual({
      id: expect.any(String),
      event: 'end',
      data: { status: 'COMPLETE', error: null },
    });
    const chunks = read.events.filter((event) => event.event === 'chunk');
    expect(chunks.map((event) => event.data.seq)).toEqual(chunks.map((_, index) => index + 1));
    expect(new Set(chunks.map((event) => event.data.attempt)).size).toBe(2);
    expect(textOf(read.events)).toBe(await storedText(token, id));
  });

  it('ends a stream whose session ends with a 401 error event', async () => {
    const session = await stack.api.call('POST', '/api/sessions/anonymous');
    const { token, sessionId } = session.body as { token: string; sessionId: string };
    const id = await submitted(token, chat('Prudence, indeed,', { token_delay_ms: 200, max_tokens: 200 }));
    const reading = events(token, id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await revokeSession(stack.db, sessionId, 'test');
    const read = await reading;
    expect(read.events.at(-1)).toMatchObject({ event: 'error', data: { status: 401, code: 'SESSION_ENDED' } });
    expect((await events(token, id)).status).toBe(401);
  });
});

describe('the stats of streamed requests', () => {
  it('have the time to first token and the tokens in and out, in rows and in rollups alike', async () => {
    const token = await stack.api.anonymousToken();
    const ids = [];
    for (const maxTokens of [10, 20, 30])
      ids.push(await submitted(token, chat('We hold these', { max_tokens: maxTokens, token_delay_ms: 2 })));
    for (const id of ids) await storedText(token, id);
    const row = await stack.db.one(sql.type(
      z.object({ firstTokenMs: z.number(), totalMs: z.number(), tokensIn: z.number(), tokensOut: z.number() }),
    )`
      SELECT extract(epoch FROM first_token_timestamp - request_timestamp)::float8 * 1000 AS "firstTokenMs",
             extract(epoch FROM processed_timestamp - request_timestamp)::float8 * 1000 AS "totalMs",
             tokens_in::int AS "tokensIn", tokens_out::int AS "tokensOut"
        FROM request_stats WHERE request_id = ${ids[2]!}`);
    expect(row).toMatchObject({ tokensIn: 3, tokensOut: 30 });
    expect(row.firstTokenMs).toBeGreaterThan(0);
    expect(row.firstTokenMs).toBeLessThan(row.totalMs);

    const query = statsQuery.parse({ model: 'markov', rollup: 'model' });
    const fromRollups = await queryStats(stack.db, query);
    expect(fromRollups.source.kind).toBe('rollups');
    const [rolled] = fromRollups.rows as Awaited<ReturnType<typeof groupsFromRows>>;
    const [exact] = await groupsFromRows(stack.db, query);
    expect(rolled!.tokensIn).toBe(exact!.tokensIn);
    expect(rolled!.tokensOut).toBe(exact!.tokensOut);
    expect(rolled!.tokensPerSecond).toBeCloseTo(exact!.tokensPerSecond!, 3);
    expect(rolled!.firstTokenMs.avg).toBeCloseTo(exact!.firstTokenMs.avg!, 3);
    expect(rolled!.firstTokenMs.max).toBeCloseTo(exact!.firstTokenMs.max!, 3);
    expect(Math.abs(rolled!.firstTokenMs.p50! - exact!.firstTokenMs.p50!)).toBeLessThanOrEqual(
      exact!.firstTokenMs.max! * 0.02,
    );
    expect(exact!.tokensPerSecond).toBeGreaterThan(0);
  });
});

describe('the OpenAI-compatible front door', () => {
  let client: OpenAI;
  let token: string;
  beforeAll(async () => {
    token = await stack.api.anonymousToken();
    client = new OpenAI({ baseURL: `${stack.api.baseUrl}/v1`, apiKey: token, maxRetries: 0 });
  });

  it("works for OpenAI's Python SDK unchanged: models, a chat completion, a stream, an unknown model", async () => {
    const python = path.join(
      ensurePythonTool(openaiPython, () => undefined),
      'bin',
      'python',
    );
    const { stdout } = await promisify(execFile)(python, [
      path.resolve(__dirname, '../support/openai_client.py'),
      `${stack.api.baseUrl}/v1`,
      token,
    ]);
    const seen = JSON.parse(stdout);
    expect(seen.models).toContain('markov');
    expect(seen.chat.completionTokens).toBe(10);
    expect(seen.chat.text).toBe(await storedText(token, seen.chat.requestId));
    expect(seen.stream).toMatchObject({ finish: 'length', usage: 25 });
    expect(seen.stream.text).toBe(await storedText(token, seen.stream.requestId));
    expect(seen.unknownModel).toEqual({ status: 404, code: 'UNKNOWN_MODEL' });
  }, 180_000);

  it('lists the models that speak the OpenAI API', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('markov');
    expect(models.data.map((model) => model.id)).not.toContain('echo');
  });

  it('answers a chat completion with the model’s answer, its usage and the request id', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'markov', messages: [{ role: 'user', content: 'We hold these' }], max_tokens: 12 })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('markov');
    expect(data.choices[0]!.message.content!.split(' ')).toHaveLength(12);
    expect(data.usage).toMatchObject({ completion_tokens: 12 });
    const requestId = response.headers.get('podium-request-id')!;
    expect(await storedText(token, requestId)).toBe(data.choices[0]!.message.content);
  });

  it('streams a chat completion with the SDK; the text is the stored result', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model: 'markov',
        messages: [{ role: 'user', content: 'When in the' }],
        max_tokens: 30,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    let finish: string | null = null;
    let usage: unknown = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 30 });
    expect(text).toBe(await storedText(token, response.headers.get('podium-request-id')!));
  });

  it('streams a completion and answers embeddings', async () => {
    const stream = await client.completions.create({ model: 'markov', prompt: 'He has', max_tokens: 8, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text.split(' ')).toHaveLength(8);

    const embeddings = await client.embeddings.create({ model: 'markov', input: ['liberty', 'tyranny'] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]!.embedding).toHaveLength(64);
  });

  it('gives the same request back for the same Idempotency-Key', async () => {
    const ask = { model: 'markov', messages: [{ role: 'user' as const, content: 'a decent respect' }], max_tokens: 5 };
    const headers = { 'Idempotency-Key': `openai-${Date.now()}` };
    const first = await client.chat.completions.create(ask, { headers }).withResponse();
    const again = await client.chat.completions.create(ask, { headers }).withResponse();
    expect(again.response.headers.get('podium-request-id')).toBe(first.response.headers.get('podium-request-id'));
    expect(again.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
  });

  it("answers bad input in OpenAI's error shape", async () => {
    const post = (path: string, json: unknown) => stack.api.call('POST', `/v1${path}`, { token, json });
    const malformed = await post('/chat/completions', { model: 'markov', messages: 'hello' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { type: 'invalid_request_error', code: 'VALIDATION_FAILED', param: 'messages' },
    });
    const unknown = await post('/chat/completions', { model: 'gpt-17', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'UNKNOWN_MODEL', type: 'not_found_error' });
    const oipStream = await post('/chat/completions', {
      model: 'echo',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(oipStream.status).toBe(400);
    expect(oipStream.body.error.code).toBe('MODEL_CANNOT_STREAM');
    const tooMany = await post('/completions', { model: 'markov', prompt: 'hi', max_tokens: 1_000_000 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: 'MAX_TOKENS_TOO_LARGE', details: { maxTokens: 2048 } });
    const embeddingStream = await post('/embeddings', { model: 'markov', input: 'hi', stream: true });
    expect(embeddingStream.status).toBe(400);
    expect(embeddingStream.body.error.param).toBe('stream');

    // The same rules on POST /api/requests.
    const oipToMarkov = await stack.api.submit(token, { model: 'markov', input: echoInput });
    expect(oipToMarkov.status).toBe(400);
    expect(oipToMarkov.body.error.code).toBe('MODEL_PROTOCOL_MISMATCH');
    const openAiToEcho = await stack.api.submit(token, { model: 'echo', input: chat('hi', { stream: false }) });
    expect(openAiToEcho.status).toBe(400);
    expect(openAiToEcho.body.error.code).toBe('MODEL_PROTOCOL_MISMATCH');
  });

  it('asks for the catalog’s limit when a call names no max_tokens', async () => {
    const { body } = await stack.api.submit(token, {
      model: 'markov',
      input: { url: '/v1/completions', body: { prompt: 'He has' } },
    });
    const stored = await stack.db.oneFirst(sql.type(z.object({ maxTokens: z.number() }))`
      SELECT (input -> 'body' ->> 'max_tokens')::int AS "maxTokens" FROM work_requests WHERE id = ${body.id}`);
    expect(stored).toBe(2048);
  });

  it('keeps a request running when its streaming client goes away, unless the client asked otherwise', async () => {
    const ask = (headers: Record<string, string>) =>
      readEventStream(`${stack.api.baseUrl}/v1/chat/completions`, {
        token,
        method: 'POST',
        headers,
        json: {
          model: 'markov',
          messages: [{ role: 'user', content: 'He has' }],
          max_tokens: 60,
          stream: true,
          token_delay_ms: 20,
        },
        stopAfter: (_event: ReadEvent, seen: ReadEvent[]) => seen.length === 4,
      });
    const idOf = async (headers: Record<string, string>) => {
      const read = await ask(headers);
      return (read.events[0]!.data as { id: string }).id.replace(/^chatcmpl-/, '');
    };
    const kept = await idOf({});
    const cancelled = await idOf({ 'Podium-Cancel-On-Disconnect': 'true' });
    expect((await stack.api.waitUntilFinal(token, kept)).request.status).toBe('COMPLETE');
    expect((await stack.api.waitUntilFinal(token, cancelled)).request.status).toBe('CANCELLED');
  });
});
