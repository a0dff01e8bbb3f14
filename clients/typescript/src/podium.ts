import type { RequestPriority } from '../../../domain/request-priority';
import type { RequestInput, RequestResult, SubmittedWorkRequest, WorkRequestPage } from '../../../domain/work-request';
import { afterAnswer, backoffMs, deadlineText } from './call-decisions';
import { TokenCredentials, type Credentials, type SignedIn } from './credentials';
import { errorFromAnswer } from './errors';
import { PodiumRequest, type RequestView } from './podium-request';
import type { CallOptions, RequestClient } from './request-client';
import { requestEvents, sleep, type RequestEvent } from './request-events';
import { inferenceInput, named, type Outputs, type TensorLike } from './tensors';

export interface PodiumOptions {
  /** Where Podium's API is, such as `http://localhost:8080`; `''` in a page Podium serves. */
  baseUrl: string;
  /** An access token, or an anonymous session's token. */
  token?: string;
  /** Renews an expired access token (one renewal for all calls that meet the 401 together). */
  refreshToken?: string;
  /** Who calls are made as, when not a token (the web UI's cookie session, say). */
  credentials?: Credentials;
  /** How many times a call refused with 429 or 503 (after its Retry-After), or cut on its way, is sent again. */
  maxRetries?: number;
  /** How long one call may take, in milliseconds (a long poll gets its wait on top). */
  timeoutMs?: number;
  /** The fetch to use (globalThis.fetch unless given). */
  fetch?: typeof fetch;
}

export interface SubmitOptions {
  /** The request's input as Podium takes it, instead of named inputs: an OpenAI call, a tensor naming an upload. */
  input?: RequestInput;
  /** Called (POST, signed: `verifyWebhook`) when the request ends. */
  webhook?: string;
  /** How soon it is served among the model's waiting requests. */
  priority?: RequestPriority;
  /** By when the answer is of use: milliseconds from now, a Date, or a duration such as `"1m30s"`. */
  deadline?: number | Date | string;
  /** Makes a second submission with the same key give back the first request (one is made for you). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export type RunOptions = SubmitOptions & { timeoutMs?: number };

/** `POST /api/payloads`: an upload's id, to name in a tensor's `parameters.payload`. */
export type Upload = { id: string; size: number; sha256: string; expiresAt: string };

/**
 * A Podium API client, for Node and browsers.
 *
 * Every submission carries an `Idempotency-Key`, so a retry (after a 429 or 503, honouring
 * Retry-After, or after a cut connection) never makes a second request. A long poll cut by a
 * proxy is resumed, not failed; so is an events stream, with `Last-Event-ID`.
 *
 *     const podium = await Podium.anonymous('http://localhost:8080');
 *     const { text } = await podium.run('echo', { text: ['hello'] });
 */
export class Podium implements RequestClient {
  readonly baseUrl: string;
  readonly credentials: Credentials;
  readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly send: typeof fetch;

  constructor(options: PodiumOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.maxRetries = options.maxRetries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.send = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.credentials =
      options.credentials ??
      new TokenCredentials(options.token, options.refreshToken, (refreshToken) =>
        this.fetch('/api/auth/refresh', jsonInit('POST', { refreshToken }), { anonymous: true }),
      );
  }

  /** A client on a new anonymous session: no account needed. */
  static async anonymous(baseUrl: string, options: Omit<PodiumOptions, 'baseUrl'> = {}): Promise<Podium> {
    const client = new Podium({ ...options, baseUrl });
    const { token } = await client.call<{ token: string }>('POST', '/api/sessions/anonymous', { anonymous: true });
    client.tokens.token = token;
    return client;
  }

  /** A client signed in as `username` (its access token renewed as it expires). */
  static async login(
    baseUrl: string,
    username: string,
    password: string,
    options: Omit<PodiumOptions, 'baseUrl'> = {},
  ): Promise<Podium> {
    const client = new Podium({ ...options, baseUrl });
    const signedIn = await client.call<SignedIn>('POST', '/api/auth/login', {
      body: { username, password },
      anonymous: true,
    });
    Object.assign(client.tokens, { token: signedIn.accessToken, refreshToken: signedIn.refreshToken });
    return client;
  }

  private get tokens(): TokenCredentials {
    if (!(this.credentials instanceof TokenCredentials)) throw new TypeError('This client has credentials of its own');
    return this.credentials;
  }

  /**
   * Submits a request and gives it back at once (it runs in Podium, durably).
   *
   * `inputs`: named typed arrays, numbers, booleans or text, sent as OIP tensors; a typed array of
   * 64 kB or more, or one JSON would not carry exactly (64-bit integers past 2^53, NaN), goes
   * first as an upload of its bytes. Or `options.input`: the input as Podium takes it.
   */
  async submit(
    model: string,
    inputs?: Record<string, TensorLike> | null,
    options: SubmitOptions = {},
  ): Promise<PodiumRequest> {
    if ((inputs == null) === (options.input === undefined)) {
      throw new TypeError('Give inputs (named tensors) or options.input (the input as Podium takes it), one of them');
    }
    const input = options.input ?? (await this.uploaded(inputs!, options.signal));
    const body = {
      model,
      input,
      ...(options.webhook === undefined ? {} : { webhook: options.webhook }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.deadline === undefined ? {} : { deadline: deadlineText(options.deadline) }),
    };
    const taken = await this.call<SubmittedWorkRequest>('POST', '/api/requests', {
      body,
      headers: { 'idempotency-key': options.idempotencyKey ?? crypto.randomUUID() },
      signal: options.signal,
    });
    return new PodiumRequest(this, taken);
  }

  /** Named inputs as an inference request, the tensors JSON would not carry well uploaded first. */
  private async uploaded(inputs: Record<string, TensorLike>, signal?: AbortSignal) {
    const { tensors, uploads } = inferenceInput(inputs);
    const payloadIds = new Map<string, string>();
    for (const [name, bytes] of uploads) payloadIds.set(name, (await this.upload(bytes, { signal })).id);
    return named(tensors, payloadIds);
  }

  /**
   * Submits, waits for the end, and gives the result: the outputs as typed arrays by name for
   * named inputs, the result as Podium stores it for `options.input`. A request that failed
   * rejects with RequestFailed (its code and id), one cancelled with RequestCancelled.
   */
  run(model: string, inputs: Record<string, TensorLike>, options?: RunOptions): Promise<Outputs>;
  run(model: string, inputs: null | undefined, options: RunOptions & { input: RequestInput }): Promise<RequestResult>;
  async run(
    model: string,
    inputs: Record<string, TensorLike> | null | undefined,
    options: RunOptions = {},
  ): Promise<Outputs | RequestResult> {
    const request = await this.submit(model, inputs, options);
    await request.wait({ timeoutMs: options.timeoutMs ?? 300_000, signal: options.signal });
    return inputs == null ? request.endResult()! : request.outputs({ signal: options.signal });
  }

  /** One of your requests, as it is now; `waitSeconds` holds the answer until it ends, up to that long. */
  async get(id: string, options: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<PodiumRequest> {
    const view = await this.call<RequestView>('GET', `/api/requests/${encodeURIComponent(id)}`, {
      query: { wait: options.waitSeconds },
      timeoutMs: options.waitSeconds ? (options.waitSeconds + 15) * 1000 : undefined,
      signal: options.signal,
      requestId: id,
    });
    return new PodiumRequest(this, view);
  }

  /** Your requests, newest first (without results: `refresh()` one), page after page as the loop needs them. */
  async *requests(options: { status?: RequestView['status']; pageSize?: number } = {}): AsyncGenerator<PodiumRequest> {
    for (let cursor: string | null | undefined; cursor !== null;) {
      const page: WorkRequestPage = await this.call('GET', '/api/requests', {
        query: { limit: options.pageSize ?? 50, status: options.status, cursor },
      });
      for (const view of page.requests) yield new PodiumRequest(this, view);
      cursor = page.nextCursor;
    }
  }

  /**
   * A request's events as they come, until `end` (`request.events()` for one in hand). A cut
   * stream resumes after the last event seen; it gives up after `maxFailures` failed connections
   * in a row (`maxRetries` unless said), and at once on a refusal.
   */
  events(
    requestId: string,
    options: { signal?: AbortSignal; maxFailures?: number } = {},
  ): AsyncGenerator<RequestEvent> {
    const path = `/api/requests/${encodeURIComponent(requestId)}/events`;
    const open = (lastEventId: string | undefined, signal: AbortSignal | undefined) =>
      this.fetch(
        path,
        { headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal },
        { timeoutMs: null },
      );
    return requestEvents(open, requestId, {
      signal: options.signal,
      maxFailures: options.maxFailures ?? this.maxRetries,
    });
  }

  /** A new secret that signs your webhook deliveries from now on (shown this once). */
  async webhookSecret(): Promise<string> {
    return (await this.call<{ secret: string }>('POST', '/api/webhook-secrets', { body: {} })).secret;
  }

  /** Uploads bytes (a tensor's, laid out as docs/payloads.md says) for a request to name. */
  async upload(bytes: Uint8Array | Blob, options: { signal?: AbortSignal } = {}): Promise<Upload> {
    const response = await this.fetch('/api/payloads', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
      body: bytes as BodyInit,
      signal: options.signal,
    });
    return answerOf<Upload>(response);
  }

  /** A payload's bytes: an upload of yours, or an output kept as one. */
  async download(payloadId: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const response = await this.fetch(`/api/payloads/${encodeURIComponent(payloadId)}`, options);
    if (!response.ok) return answerOf<never>(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Any call of the API with a JSON answer (the admin endpoints, say): its answer, or its error. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const query = Object.entries(options.query ?? {}).filter(([, value]) => value !== undefined);
    const search = query.length ? `?${new URLSearchParams(query.map(([key, value]) => [key, String(value)]))}` : '';
    const init = jsonInit(method, options.body, options.headers);
    const response = await this.fetch(path + search, { ...init, signal: options.signal }, options);
    return answerOf<T>(response, options.requestId);
  }

  /**
   * The one way calls are sent: as whoever the credentials say (renewed once on a 401), sent
   * again after a 429 or 503 (Retry-After) or a cut connection, up to `maxRetries` times. Safe:
   * reads change nothing, and a submission carries its Idempotency-Key.
   */
  async fetch(
    path: string,
    init: RequestInit & { headers?: Record<string, string> },
    options: Pick<CallOptions, 'timeoutMs' | 'anonymous' | 'maxRetries'> = {},
  ): Promise<Response> {
    let renewed = false;
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const signal = init.signal ?? undefined;
    for (let attempt = 0; ;) {
      const headers = new Headers(init.headers);
      const sent: RequestInit = { ...init, headers };
      if (!options.anonymous) await this.credentials.authorise(sent, headers);
      const timeoutMs = options.timeoutMs === undefined ? this.timeoutMs : options.timeoutMs;
      const signals = [init.signal, timeoutMs === null ? null : AbortSignal.timeout(timeoutMs)].filter(
        (s) => s != null,
      );
      sent.signal = signals.length ? AbortSignal.any(signals) : undefined;
      let response: Response;
      try {
        response = await this.send(this.baseUrl + path, sent);
      } catch (error) {
        if (init.signal?.aborted || attempt >= maxRetries) throw error;
        await sleep(backoffMs(attempt++), signal);
        continue;
      }
      const then = afterAnswer(
        response.status,
        response.headers.get('retry-after'),
        attempt,
        maxRetries,
        !options.anonymous && !renewed,
      );
      if (then === 'answer') return response;
      if (then === 'renew') {
        renewed = true;
        if (!(await this.credentials.renew())) return response;
      } else {
        await sleep(then, signal);
        attempt++;
      }
      await response.body?.cancel();
    }
  }
}

function jsonInit(
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): RequestInit & { headers: Record<string, string> } {
  return {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** An answer's JSON (none for 204), or its error. */
export async function answerOf<T>(response: Response, requestId?: string): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw errorFromAnswer(response.status, body, requestId);
  return body as T;
}
