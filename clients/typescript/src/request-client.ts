import type { RequestEvent } from './request-events';

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** This call's time limit in milliseconds (null: none). */
  timeoutMs?: number | null;
  /** The request the call is about, carried by its error. */
  requestId?: string;
  /** How many times this call is sent again after a 429, a 503 or a cut (the client's `maxRetries` unless said). */
  maxRetries?: number;
  /** Made as nobody: no credentials, no renewal. */
  anonymous?: boolean;
}

/** What a request in hand needs of the client that read it (`Podium` is one). */
export interface RequestClient {
  call<T>(method: string, path: string, options?: CallOptions): Promise<T>;
  events(requestId: string, options?: { signal?: AbortSignal }): AsyncGenerator<RequestEvent>;
  download(payloadId: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}
