import { ApplicationFailure, defaultPayloadConverter, type Headers } from '@temporalio/common';
import { ContinueAsNew, proxySinks, workflowInfo, type Sinks, type WorkflowInterceptors } from '@temporalio/workflow';
import { formatTraceparent, idFromSeed, parseTraceparent, type SpanContext } from '../domain/trace-context';

/**
 * Workflow spans without the OpenTelemetry SDK in the sandbox. The sandbox evaluates a
 * workflow's modules afresh for every workflow it creates, and the SDK that
 * `@temporalio/interceptors-opentelemetry` puts there (api, core, sdk-trace-base, semantic
 * conventions, a tracer provider per workflow) was most of what tracing cost the request path
 * (`npm run bench:observability`, docs/operations.md). The spans, their names and the header stay
 * those of that package, so its client and activity interceptors continue them:
 * - `RunWorkflow:<type>`, child of the span in the start's `_tracer-data` header (the client's
 *   `StartWorkflow:<type>`), or the root of a new trace;
 * - `StartActivity:<type>` around each activity and local activity, whose context the activity's
 *   `RunActivity:<type>` continues;
 * - `HandleSignal:<name>` and `HandleUpdate:<name>` when the sender traced them.
 * A span is sent to the worker through the `tracing` sink when it ends (not again on replay);
 * infra/tracing.ts turns it into an OpenTelemetry span. Ids are derived from the run id, so a
 * replayed workflow names its spans as before.
 */
export type WorkflowSpan = {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Workflow time (Date.now in the workflow: the workflow task's time), ms since the epoch. */
  startMs: number;
  endMs: number;
  /** Set when the span's work failed: the failure's type (a request's error code) and message. */
  error?: string;
};

export interface TracingSinks extends Sinks {
  tracing: { spanEnded(span: WorkflowSpan): void };
}

/** The header `@temporalio/interceptors-opentelemetry` reads and writes: a payload of `{ traceparent }`. */
export const traceHeader = '_tracer-data';

function contextIn(headers: Headers): SpanContext | null {
  const payload = headers[traceHeader];
  if (!payload) return null;
  try {
    return parseTraceparent(defaultPayloadConverter.fromPayload<{ traceparent?: unknown }>(payload)?.traceparent);
  } catch {
    return null; // a header we cannot read starts a new trace rather than failing the workflow
  }
}

function withContext(headers: Headers, context: SpanContext | null): Headers {
  return context
    ? { ...headers, [traceHeader]: defaultPayloadConverter.toPayload({ traceparent: formatTraceparent(context) }) }
    : headers;
}

/** A failure as a span's status says it: with its type (the request's error code) when it has one. */
function describe(thrown: unknown): string {
  if (thrown instanceof ApplicationFailure && thrown.type) return `${thrown.type}: ${thrown.message}`;
  return thrown instanceof Error ? thrown.message : String(thrown);
}

export const interceptors = (): WorkflowInterceptors => {
  const { runId, workflowType } = workflowInfo();
  const sink = proxySinks<TracingSinks>().tracing;
  /** This run's `RunWorkflow` span, the parent of what the workflow does. */
  let run: SpanContext | null = null;
  let handled = 0;

  async function inSpan<T>(
    name: string,
    parent: SpanContext | null,
    seed: string,
    work: (span: SpanContext) => Promise<T>,
  ): Promise<T> {
    const span: SpanContext = {
      traceId: parent?.traceId ?? idFromSeed(`${runId}/trace`, 16),
      spanId: idFromSeed(`${runId}/${seed}`, 8),
      sampled: parent?.sampled ?? true,
    };
    const startMs = Date.now();
    let error: string | undefined;
    try {
      return await work(span);
    } catch (thrown) {
      if (!(thrown instanceof ContinueAsNew)) error = describe(thrown);
      throw thrown;
    } finally {
      if (span.sampled)
        sink.spanEnded({
          name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: parent?.spanId,
          startMs,
          endMs: Date.now(),
          error,
        });
    }
  }

  /** A handler's span when its sender traced it; untraced signals and updates cost nothing. */
  function handlerSpan<T>(name: string, headers: Headers, work: () => Promise<T>): Promise<T> {
    const sender = contextIn(headers);
    return sender ? inSpan(name, sender, `handler/${handled++}`, work) : work();
  }

  return {
    inbound: [
      {
        execute: (input, next) =>
          inSpan(`RunWorkflow:${workflowType}`, contextIn(input.headers), 'run', (span) => {
            run = span;
            return next(input);
          }),
        handleSignal: (input, next) =>
          handlerSpan(`HandleSignal:${input.signalName}`, input.headers, () => next(input)),
        handleUpdate: (input, next) => handlerSpan(`HandleUpdate:${input.name}`, input.headers, () => next(input)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) =>
          inSpan(`StartActivity:${input.activityType}`, run, `activity/${input.seq}`, (span) =>
            next({ ...input, headers: withContext(input.headers, span) }),
          ),
        scheduleLocalActivity: (input, next) =>
          inSpan(`StartActivity:${input.activityType}`, run, `local/${input.seq}/${input.attempt}`, (span) =>
            next({ ...input, headers: withContext(input.headers, span) }),
          ),
        startChildWorkflowExecution: (input, next) => next({ ...input, headers: withContext(input.headers, run) }),
        signalWorkflow: (input, next) => next({ ...input, headers: withContext(input.headers, run) }),
        continueAsNew: (input, next) => next({ ...input, headers: withContext(input.headers, run) }),
        getLogAttributes: (input, next) => next(run ? { trace_id: run.traceId, span_id: run.spanId, ...input } : input),
      },
    ],
  };
};
