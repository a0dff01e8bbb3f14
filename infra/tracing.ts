import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryPlugin, OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

/**
 * Traces with OpenTelemetry: the API's HTTP spans continue into the request's workflow and its
 * activities through Temporal's OpenTelemetry interceptors (headers carry the context). Off unless
 * configured, and then it costs nothing: no interceptor, no middleware.
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
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}

/** The workflow-side interceptors, for a workflow bundle built ahead (a worker that bundles itself gets them from the plugin). */
export const tracingWorkflowModules = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/** The worker's plugin: activity spans, the workflow spans' exporter sink, the interceptor modules. */
export function tracingWorkerPlugins(tracing: Tracing | null) {
  return tracing ? [new OpenTelemetryPlugin({ resource: tracing.resource, spanProcessor: tracing.spanProcessor })] : [];
}

/** A client's interceptors: a workflow it starts or signals continues the active trace. */
export function tracingClientInterceptors(tracing: Tracing | null): ClientInterceptors | undefined {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}
