import type { QueuePlace, RequestError, RequestResult, WorkRequestSummary } from '../../../domain/work-request';
import type { InferenceResponse } from '../../../domain/inference-protocol';
import { nextPollSeconds } from './call-decisions';
import { PodiumError, RequestCancelled, RequestFailed } from './errors';
import type { RequestClient } from './request-client';
import type { RequestEvent } from './request-events';
import { fromBytes, fromJson, payloadOutputs, type Outputs } from './tensors';

/** A request as last read: all of it from `GET`, a summary from a list, what was taken from a submission. */
export type RequestView = Pick<WorkRequestSummary, 'id' | 'status' | 'model' | 'priority' | 'deadline' | 'createdAt'> &
  Partial<WorkRequestSummary> & { result?: RequestResult | null; queue?: QueuePlace };

/** Statuses after which nothing changes (domain/request-status.ts says the same; the client takes only its types). */
const finalStatuses: readonly string[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

/** A request with this status has ended: nothing about it changes any more. */
export const isFinalStatus = (status: string): boolean => finalStatuses.includes(status);

/** A request in Podium, as last read. `wait`, `cancel` and `events` act on it. */
export class PodiumRequest {
  constructor(
    private readonly client: RequestClient,
    /** The request's fields as the API last gave them. */
    public view: RequestView,
  ) {}

  get id(): string {
    return this.view.id;
  }
  /** The model it asks. */
  get model(): string {
    return this.view.model;
  }
  /** REQUESTED, PROCESSING, COMPLETE, FAILED or CANCELLED. */
  get status(): RequestView['status'] {
    return this.view.status;
  }
  /** The stored result of a COMPLETE request, as the model gave it (see `outputs()` for tensors). */
  get result(): RequestResult | null {
    return this.view.result ?? null;
  }
  /** `{ code, message }` of a FAILED request. */
  get error(): RequestError | null {
    return this.view.error ?? null;
  }
  /** While it waits for a slot: its place in its model's line and when it should start. */
  get queue(): QueuePlace | undefined {
    return this.view.queue;
  }
  /** It has ended: nothing about it changes any more. */
  get done(): boolean {
    return isFinalStatus(this.status);
  }

  private get path() {
    return `/api/requests/${encodeURIComponent(this.id)}`;
  }

  /** Reads it again. */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<this> {
    this.view = await this.client.call<RequestView>('GET', this.path, { ...options, requestId: this.id });
    return this;
  }

  /**
   * Waits for its end by long poll, however many polls a proxy cuts. Rejects with WaitTimeout
   * when `timeoutMs` passes first (the request goes on in Podium).
   */
  async wait(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<this> {
    const giveUpAt = options.timeoutMs === undefined ? null : Date.now() + options.timeoutMs;
    while (!this.done) {
      const wait = nextPollSeconds(giveUpAt, Date.now(), this.id);
      try {
        this.view = await this.client.call<RequestView>('GET', this.path, {
          query: { wait },
          timeoutMs: (wait + 15) * 1000,
          signal: options.signal,
          requestId: this.id,
        });
      } catch (error) {
        if (error instanceof PodiumError || options.signal?.aborted) throw error;
        // A proxy cut the poll (and the client's own retries ran out): ask again.
      }
    }
    return this;
  }

  /** Cancels it: a waiting request ends at once, a running one has its call cut. */
  async cancel(): Promise<this> {
    await this.client.call('POST', `${this.path}/cancel`, { requestId: this.id });
    return this.refresh();
  }

  /**
   * Its events as they come, until `end`: status changes, and a streaming model's output piece
   * by piece. A cut stream resumes after the last event seen (`Last-Event-ID`).
   */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<RequestEvent> {
    return this.client.events(this.id, options);
  }

  /**
   * An OIP result's outputs as typed arrays by name. Outputs too large to come inline, and 64-bit
   * integers kept as payloads, are read as bytes. Rejects with RequestFailed or RequestCancelled
   * for a request that ended without a result.
   */
  async outputs(options: { signal?: AbortSignal } = {}): Promise<Outputs> {
    const result = this.endResult();
    if (!result || !Array.isArray((result as InferenceResponse).outputs)) {
      throw new PodiumError('NOT_TENSORS', 'The result has no OIP outputs: read request.result', {
        requestId: this.id,
      });
    }
    const response = result as InferenceResponse;
    const outputs: Outputs = {};
    for (const output of response.outputs) if (output.data !== undefined) outputs[output.name] = fromJson(output);
    for (const { name, payload } of payloadOutputs(response)) {
      const output = response.outputs.find((candidate) => candidate.name === name)!;
      outputs[name] = fromBytes(output, await this.client.download(payload, options));
    }
    return outputs;
  }

  /** The result of an ended request; its end as an error when it has none. */
  endResult(): RequestResult | null {
    if (this.status === 'FAILED') {
      const error = this.error ?? { code: 'FAILED', message: 'The request failed' };
      throw new RequestFailed(error.code, error.message, { requestId: this.id });
    }
    if (this.status === 'CANCELLED') {
      throw new RequestCancelled('CANCELLED', 'The request was cancelled', { requestId: this.id });
    }
    if (!this.done) {
      throw new PodiumError('NOT_ENDED', `The request is ${this.status}: wait() for it`, { requestId: this.id });
    }
    return this.result;
  }
}
