// The Markov demo model: a small OpenAI-compatible server (chat, completions, embeddings; SSE
// when asked to stream), so that `npm start` can show streaming with nothing to install. It
// speaks as vLLM and llama.cpp's server do, to the extent Podium and the OpenAI SDKs use.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { runAsModelProcess } from '../server-process.ts';
import { buildChain, countTokens, embed, generate } from './chain.ts';

const name = process.env.PODIUM_MODEL_NAME || 'markov';
const chain = buildChain(readFileSync(new URL('declaration.txt', import.meta.url), 'utf8'));
/** Time between tokens, to make the stream visible; a request's `token_delay_ms` overrides it. */
const defaultTokenDelayMs = Number(process.env.MARKOV_TOKEN_DELAY_MS ?? 0);
const maxTokenDelayMs = 1_000;
const defaultMaxTokens = 64;
const maxBodyBytes = 4 * 1024 * 1024;
/**
 * For the streaming benchmark (test/bench/streaming.ts): each token is the time it was sent, in
 * ms since the epoch to the microsecond, so that a reader on the same machine can tell how long
 * it took to come.
 */
const tokenClock = process.env.MARKOV_TOKEN_CLOCK === '1';
const now = () => (performance.timeOrigin + performance.now()).toFixed(3);

class BadRequest extends Error {
  readonly status: number;
  readonly code: string | null;
  constructor(message: string, status = 400, code: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

type Body = Record<string, unknown>;

async function readBody(request: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new BadRequest(`request body exceeds ${maxBodyBytes} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Body;
  } catch {
    // answered below
  }
  throw new BadRequest('the body must be a JSON object');
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join(' ');
  }
  return '';
}

/** The prompt the chain continues, and every word the caller sent (for usage). */
function promptOf(body: Body, chat: boolean): { prompt: string; all: string } {
  if (chat) {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest('messages must be a non-empty array');
    const texts = messages.map((message: { content?: unknown }) => textOf(message?.content));
    const lastUser = [...messages].reverse().find((message: { role?: unknown }) => message?.role === 'user');
    return { prompt: textOf(lastUser?.content), all: texts.join(' ') };
  }
  const prompt = Array.isArray(body.prompt) ? String(body.prompt[0] ?? '') : body.prompt;
  if (typeof prompt !== 'string') throw new BadRequest('prompt must be a string');
  return { prompt, all: prompt };
}

function positiveInteger(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new BadRequest(`${what} must be a positive integer`);
  return value;
}

async function complete(request: IncomingMessage, response: ServerResponse, body: Body, chat: boolean) {
  const { prompt, all } = promptOf(body, chat);
  const maxTokens = positiveInteger(body.max_completion_tokens ?? body.max_tokens, defaultMaxTokens, 'max_tokens');
  const seed = typeof body.seed === 'number' ? body.seed : 0;
  const delay = Math.min(maxTokenDelayMs, Number(body.token_delay_ms ?? defaultTokenDelayMs) || 0);
  const stops = (Array.isArray(body.stop) ? body.stop : body.stop ? [body.stop] : []).filter(
    (stop): stop is string => typeof stop === 'string' && stop !== '',
  );
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = countTokens(all);
  const object = chat ? 'chat.completion' : 'text_completion';

  let closed = false;
  response.on('close', () => (closed = true));
  const stream = body.stream === true;
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const chunk = (choice: object | null, usage: object | null = null) =>
    `data: ${JSON.stringify({ id, object: `${object}.chunk`, created, model: name, choices: choice ? [choice] : [], ...(usage ? { usage } : {}) })}\n\n`;
  const piece = (text: string, finish: string | null) =>
    chat
      ? { index: 0, delta: text ? { content: text } : {}, finish_reason: finish }
      : { index: 0, text, finish_reason: finish };

  if (stream) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (chat) response.write(chunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }));
  }
  let text = '';
  let count = 0;
  let finish: 'stop' | 'length' = 'length';
  const words = generate(chain, prompt, seed);
  while (count < maxTokens && !closed) {
    const next = words.next();
    if (next.done) {
      finish = 'stop';
      break;
    }
    if (delay > 0) await sleep(delay);
    let token = (text === '' ? '' : ' ') + (tokenClock ? now() : next.value);
    const stopAt = stops.map((stop) => (text + token).indexOf(stop)).filter((at) => at >= 0);
    if (stopAt.length > 0) {
      token = (text + token).slice(0, Math.min(...stopAt)).slice(text.length);
      finish = 'stop';
    }
    text += token;
    count++;
    if (stream && token) response.write(chunk(piece(token, null)));
    if (finish === 'stop') break;
  }
  if (closed) return;
  const usage = { prompt_tokens: promptTokens, completion_tokens: count, total_tokens: promptTokens + count };
  if (stream) {
    response.write(chunk(piece('', finish)));
    if (includeUsage) response.write(chunk(null, usage));
    response.end('data: [DONE]\n\n');
    return;
  }
  const choice = chat
    ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }
    : { index: 0, text, finish_reason: finish };
  send(response, 200, { id, object, created, model: name, choices: [choice], usage });
}

function embeddings(response: ServerResponse, body: Body) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (!inputs.every((input) => typeof input === 'string')) throw new BadRequest('input must be a string or strings');
  const dimensions = Math.min(positiveInteger(body.dimensions, 64, 'dimensions'), 1_024);
  const tokens = inputs.reduce((sum: number, input: string) => sum + countTokens(input), 0);
  send(response, 200, {
    object: 'list',
    model: name,
    data: inputs.map((input: string, index) => ({ object: 'embedding', index, embedding: embed(input, dimensions) })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
  const url = request.url?.split('?')[0] ?? '/';
  try {
    if (request.method === 'GET' && (url === '/health' || url === '/v1/models')) {
      return send(response, 200, {
        object: 'list',
        data: [{ id: name, object: 'model', created: 0, owned_by: 'podium' }],
      });
    }
    const routes: Record<string, (body: Body) => Promise<void> | void> = {
      '/v1/chat/completions': (body) => complete(request, response, body, true),
      '/v1/completions': (body) => complete(request, response, body, false),
      '/v1/embeddings': (body) => embeddings(response, body),
    };
    const route = request.method === 'POST' ? routes[url] : undefined;
    if (!route) throw new BadRequest(`no route ${request.method} ${url}`, 404);
    const body = await readBody(request);
    if (body.model !== undefined && body.model !== name) {
      throw new BadRequest(`The model \`${String(body.model)}\` does not exist.`, 404, 'model_not_found');
    }
    await route(body);
  } catch (error) {
    const status = error instanceof BadRequest ? error.status : 500;
    const code = error instanceof BadRequest ? error.code : null;
    const message = error instanceof Error ? error.message : String(error);
    if (response.headersSent) return void response.end();
    send(response, status, {
      error: { message, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code },
    });
  }
};

const server = createServer((request, response) => void answer(request, response));
runAsModelProcess(server, name);
