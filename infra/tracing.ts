import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { TracingSinks, WorkflowSpan } from '../workflows/tracing-interceptors';

/**
 * Traces with OpenTelemetry: the API's HTTP spans continue into the request's workflow and its
 * activities (headers carry the context): Temporal's OpenTelemetry interceptors on the clients and
 * activities, Podium's own in the workflow sandbox (workflows/tracing-interceptors.ts says why).
 * Off unless configured, and then it costs nothing: no interceptor, no middleware.
 */
export type Tracing = { resource: Resource; spanProcessor: SpanProcessor; shutdown: () => Promise<void> };

/** OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (the exporter reads the OTEL_* variables) when it is set; else off. */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return startTracing(serviceName, new BatchSpanProcessor(new OTLPTraceExporter()));
}

/** Registers this process's tracer provider, with AsyncLocalStorage context and W3C propagation. */
export function startTracing(serviceName: string, spanProcessor: SpanProcessor): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({
    contextManager: new AsyncLocalStorageContextManager().enable(),
    propagator: new W3CTraceContextPropagator(),
  });
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}

/** The workflow-side interceptors, for a workflow bundle (`bundleWorkflowCode`'s `workflowInterceptorModules`). */
export const tracingWorkflowModules = [require.resolve('../workflows/tracing-interceptors')];

/** A span a workflow ended (ms of workflow time), as OpenTelemetry's exporters take it. */
function readableSpan(span: WorkflowSpan, info: WorkflowInfo, tracing: Tracing): ReadableSpan {
  const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1e6];
  const spanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: span.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => spanContext,
    parentSpanId: span.parentSpanId,
    startTime: hrTime(span.startMs),
    endTime: hrTime(span.endMs),
    duration: hrTime(span.endMs - span.startMs),
    status:
      span.error === undefined ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: span.error },
    attributes: { temporalWorkflowId: info.workflowId, run_id: info.runId },
    links: [],
    events: [],
    ended: true,
    resource: tracing.resource,
    instrumentationLibrary: { name: 'podium-workflows' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * What a worker that traces adds: activity spans (Temporal's interceptors, continuing the
 * workflow's `StartActivity` spans) and the sink its workflows' spans arrive by. A workflow bundle
 * must hold `tracingWorkflowModules`.
 */
export function tracingWorkerOptions(tracing: Tracing | null): {
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<TracingSinks> | undefined;
} {
  if (!tracing) return { activityInterceptors: [], sinks: undefined };
  return {
    activityInterceptors: [
      (context) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(context),
        outbound: new OpenTelemetryActivityOutboundInterceptor(context),
      }),
    ],
    sinks: {
      tracing: { spanEnded: { fn: (info, span) => tracing.spanProcessor.onEnd(readableSpan(span, info, tracing)) } },
    },
  };
}

/** A client's interceptors: a workflow it starts or signals continues the active trace. */
export function tracingClientInterceptors(tracing: Tracing | null): ClientInterceptors | undefined {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}
