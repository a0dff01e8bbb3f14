import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../infra/tracing';
import { eventually } from '../support/eventually';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

// Spans collected in memory: the API, its Temporal client and the worker all trace (the stack
// builds a workflow bundle with the tracing interceptors for it).
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: TestStack;
beforeAll(async () => {
  tracing = startTracing('podium-test', new SimpleSpanProcessor(exporter));
  stack = await startTestStack({ tracing });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

describe('traces', () => {
  it('one trace from POST /api/requests, through the workflow, to the model call', async () => {
    const token = await stack.api.anonymousToken();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const submitted = await stack.api.call('POST', '/api/requests', {
      token,
      json: { model: 'echo', input: echoInput },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, // the caller's trace, continued
    });
    expect((await stack.api.waitUntilFinal(token, submitted.body.id)).request.status).toBe('COMPLETE');

    const spans = await eventually(
      async () => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
      // The workflow's own span ends last: the worker sends it when the run's final task completes.
      (found) =>
        ['RunActivity:finishRequest', 'RunWorkflow:modelRequest2'].every((name) =>
          found.some((span) => span.name === name),
        ),
    );
    const names = spans.map((span) => span.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /api/requests',
        'StartWorkflow:modelRequest2',
        'RunWorkflow:modelRequest2',
        'StartActivity:runInference',
        'RunActivity:serveWarmRequest',
        'RunActivity:runInference',
        'RunActivity:finishRequest',
      ]),
    );
    const http = spans.find((span) => span.name === 'POST /api/requests')!;
    expect(http.attributes).toMatchObject({ 'http.route': '/api/requests', 'http.response.status_code': 202 });
    // The model call's span descends from the API's, through the workflow. (The model's pool,
    // started by this first request, is in the trace too, its run still open.)
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const ancestry = (span: ReadableSpan | undefined): string[] =>
      span ? [span.name, ...ancestry(byId.get(span.parentSpanId!))] : [];
    const inference = ancestry(spans.find((span) => span.name === 'RunActivity:runInference'));
    expect(inference).toEqual([
      'RunActivity:runInference',
      'StartActivity:runInference',
      'RunWorkflow:modelRequest2',
      'StartWorkflow:modelRequest2',
      'POST /api/requests',
    ]);
    const run = spans.find((span) => span.name === 'RunWorkflow:modelRequest2')!;
    expect(run.attributes).toEqual({ temporalWorkflowId: `request-${submitted.body.id}`, run_id: expect.any(String) });
    expect(run.status.code).toBe(SpanStatusCode.OK);
    expect(http.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('a request that fails ends its workflow span in error, without its input', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'fail', input: echoInput });
    expect((await stack.api.waitUntilFinal(token, body.id)).request.status).toBe('FAILED');
    const run = await eventually(
      async () =>
        exporter
          .getFinishedSpans()
          .find(
            (span) =>
              span.name === 'RunWorkflow:modelRequest2' && span.attributes.temporalWorkflowId === `request-${body.id}`,
          ),
      (found) => found !== undefined,
    );
    expect(run!.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringContaining('MODEL_ERROR') });
    expect(JSON.stringify(run)).not.toContain(JSON.stringify(echoInput.inputs[0]!.data));
  });
});
