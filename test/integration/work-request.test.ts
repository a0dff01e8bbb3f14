import { WorkflowFailedError } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { beginWarmRequest, finishWarmRequest } from '../../db/warm-requests';
import { insertWorkRequest } from '../../db/work-requests';
import { inferenceRequest, inferenceResponse } from '../../domain/inference-protocol';
import { modelNameKey, requestStatusKey } from '../../workflows/search-attributes';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();

const statsRow = z.object({
  modelId: z.string(),
  resultSuccess: z.boolean(),
  requestTimestamp: z.number(),
  podReadyTimestamp: z.number().nullable(),
  processedTimestamp: z.number(),
});

async function statsFor(requestId: string) {
  return stack.db.any(sql.type(statsRow)`
    SELECT model_id AS "modelId", result_success AS "resultSuccess", request_timestamp AS "requestTimestamp",
           pod_ready_timestamp AS "podReadyTimestamp", processed_timestamp AS "processedTimestamp"
      FROM request_stats WHERE request_id = ${requestId}`);
}

/** The log of the instance that served the request. */
async function instanceEventsFor(requestId: string) {
  return stack.db.anyFirst(sql.type(z.object({ event: z.string() }))`
    SELECT l.event FROM model_instance_log l
     WHERE l.instance_id = (SELECT instance_id FROM work_requests WHERE id = ${requestId})
     ORDER BY l.id`);
}

describe('a work request, end to end', () => {
  it('lists the model catalog', async () => {
    const { status, body } = await stack.api.call('GET', '/api/models');
    expect(status).toBe(200);
    expect(body.models.map((model: { id: string }) => model.id)).toEqual(['echo', 'fail', 'markov', 'sentiment']);
    expect(body.models[0]).toMatchObject({ protocol: 'oip-v2', containerImage: expect.stringContaining('model-echo') });
    expect(body.models[0]).not.toHaveProperty('localCommand');
  });

  it('echo goes REQUESTED → PROCESSING → COMPLETE with its input as result and one stats row', async () => {
    const token = await stack.api.anonymousToken();
    const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'REQUESTED', model: 'echo' });
    expect(submitted.headers.get('location')).toBe(`/api/requests/${submitted.body.id}`);

    const { request, seen } = await stack.api.waitUntilFinal(token, submitted.body.id);
    expect(seen.at(-1)).toBe('COMPLETE');
    expect(['REQUESTED', 'PROCESSING']).toEqual(expect.arrayContaining(seen.slice(0, -1)));
    expect(request.result).toEqual({
      model_name: 'echo',
      model_version: '1',
      id: submitted.body.id,
      outputs: echoInput.inputs,
    });
    expect(request.error).toBeNull();
    expect(Date.parse(request.startedAt!)).toBeGreaterThanOrEqual(Date.parse(request.createdAt));

    const stats = await statsFor(request.id);
    expect(stats).toHaveLength(1);
    const [row] = stats;
    expect(row).toMatchObject({ modelId: 'echo', resultSuccess: true });
    expect(row!.podReadyTimestamp).not.toBeNull();
    expect(row!.requestTimestamp).toBeLessThanOrEqual(row!.podReadyTimestamp!);
    expect(row!.podReadyTimestamp!).toBeLessThanOrEqual(row!.processedTimestamp);
  });

  it('runs the work as workflow request-<id> on a warm instance of the model’s pool', async () => {
    const token = await stack.api.anonymousToken();
    const first = await stack.api.submit(token, { model: 'echo', input: echoInput });
    await stack.api.waitUntilFinal(token, first.body.id);
    const handle = stack.temporal.workflow.getHandle(`request-${first.body.id}`);
    expect(await handle.result()).toEqual({ status: 'COMPLETE' });
    const description = await handle.describe();
    expect(description.type).toBe('modelRequest2');
    expect(description.typedSearchAttributes.get(modelNameKey)).toBe('echo');
    expect(description.typedSearchAttributes.get(requestStatusKey)).toBe('COMPLETE');
    const details = await stack.api.call('GET', `/api/requests/${first.body.id}`, { token });
    expect(details.body.links).toEqual({
      self: `/api/requests/${first.body.id}`,
      temporal: `http://127.0.0.1:8233/namespaces/default/workflows/request-${first.body.id}`,
    });

    const second = await stack.api.submit(token, { model: 'echo', input: echoInput });
    await stack.api.waitUntilFinal(token, second.body.id);
    const servedBy = await stack.db.anyFirst(sql.type(z.object({ instanceId: z.string() }))`
      SELECT instance_id AS "instanceId" FROM work_requests WHERE id IN (${first.body.id}, ${second.body.id})`);
    expect(new Set(servedBy).size).toBe(1);
    expect(await instanceEventsFor(second.body.id)).toEqual(
      expect.arrayContaining(['CREATED', 'SCHEDULED', 'READY', 'ASSIGNED', 'RELEASED', 'ASSIGNED', 'RELEASED']),
    );
  });

  it('a warm request is one workflow task and one local activity: its history holds one marker and one search attribute upsert', async () => {
    const token = await stack.api.anonymousToken();
    await stack.api.waitUntilFinal(token, await stack.api.submitAccepted(token, { model: 'echo', input: echoInput })); // the instance is warm
    const id = await stack.api.submitAccepted(token, { model: 'echo', input: echoInput });
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    // The row is COMPLETE inside the activity, a moment before the workflow records it and ends.
    const workflow = stack.temporal.workflow.getHandle(`request-${id}`);
    expect(await workflow.result()).toEqual({ status: 'COMPLETE' });
    const history = await workflow.fetchHistory();
    const count = (type: string) => history.events!.filter((event) => event[type as keyof typeof event]).length;
    expect({
      workflowTasks: count('workflowTaskCompletedEventAttributes'),
      markers: count('markerRecordedEventAttributes'),
      upserts: count('upsertWorkflowSearchAttributesEventAttributes'),
      activities: count('activityTaskScheduledEventAttributes'),
      signals: count('workflowExecutionSignaledEventAttributes'),
    }).toEqual({ workflowTasks: 1, markers: 1, upserts: 1, activities: 0, signals: 0 });
    expect(await instanceEventsFor(id)).toEqual(expect.arrayContaining(['ASSIGNED', 'RELEASED']));
    expect(await statsFor(id)).toEqual([
      expect.objectContaining({ modelId: 'echo', resultSuccess: true, podReadyTimestamp: expect.any(Number) }),
    ]);
  });

  it('a workflow that looks for its row before the API has committed it waits for the commit instead of retrying; a repeated finish finds its end', async () => {
    // An eagerly started workflow can run its first step while the API's transaction is still open.
    const token = await stack.api.anonymousToken();
    await stack.api.waitUntilFinal(token, await stack.api.submitAccepted(token, { model: 'echo', input: echoInput })); // warm
    const sessionId = await stack.db.oneFirst(
      sql.type(z.object({ id: z.string() }))`SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1`,
    );
    const id = randomUUID();
    let begun: ReturnType<typeof beginWarmRequest> | undefined;
    let settled = false;
    // The API's transaction, by hand on one connection, so that the workflow's step runs on another meanwhile.
    await stack.db.connect(async (api) => {
      await api.query(sql.unsafe`BEGIN`);
      await insertWorkRequest(api, {
        id,
        modelId: 'echo',
        principal: { kind: 'anonymous', sessionId },
        input: inferenceRequest.parse(echoInput),
        workflowId: `request-${id}`,
        priority: 'normal',
        maxInFlight: 100,
      });
      begun = beginWarmRequest(stack.db, { requestId: id, workflowId: `request-${id}`, maxRequestTimeoutSeconds: 60 });
      void begun.finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // waiting on the open transaction
      await api.query(sql.unsafe`COMMIT`);
    });
    expect((await begun!).outcome).toBe('STARTED');
    const result = {
      model_name: 'echo',
      outputs: [{ name: 'text', shape: [1], datatype: 'BYTES' as const, data: ['hi'] }],
    };
    expect(await finishWarmRequest(stack.db, id, result)).toMatchObject({ ended: true, released: true });
    // A finish retried after its commit's answer was lost finds its own end, so the step can still give the slot back.
    expect(await finishWarmRequest(stack.db, id, result)).toEqual({ ended: false, status: 'COMPLETE' });
  });

  it('sentiment labels each text with the lexicon model', async () => {
    const token = await stack.api.anonymousToken();
    const texts = ['I love this wonderful product', 'This is terrible and awful', 'The box is brown'];
    const { body } = await stack.api.submit(token, {
      model: 'sentiment',
      input: { inputs: [{ name: 'text', shape: [3], datatype: 'BYTES', data: texts }] },
    });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('COMPLETE');
    const [label, score] = inferenceResponse.parse(request.result).outputs;
    expect(label).toEqual({ name: 'label', shape: [3], datatype: 'BYTES', data: ['positive', 'negative', 'neutral'] });
    expect(score!.data![0]).toBeGreaterThan(0);
    expect(score!.data![1]).toBeLessThan(0);
  });

  it('fail ends FAILED with the model error (kept out of workflow history) and a stats row with result_success=false', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'fail', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('FAILED');
    expect(request.result).toBeNull();
    expect(request.error).toEqual({
      code: 'MODEL_ERROR',
      message: expect.stringContaining('the fail model fails every request'),
    });
    // The workflow knows the code; what the model said stays with the request, out of history.
    const workflow = stack.temporal.workflow.getHandle(`request-${body.id}`);
    // …and ends failed with it, so the Web UI's list shows the failure.
    const failure = await workflow.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'MODEL_ERROR',
      message: 'model fail answered 500',
      nonRetryable: true,
    });
    expect((await workflow.describe()).status.name).toBe('FAILED');
    const history = await workflow.fetchHistory();
    expect(JSON.stringify(history)).not.toContain('fails every request');
    // Its steps say what they are in the Web UI's timeline (activity summaries).
    const summaries = history.events!.flatMap((event) =>
      event.userMetadata?.summary ? [Buffer.from(event.userMetadata.summary.data!).toString()] : [],
    );
    expect(summaries.join('\n')).toContain('serve on a free slot of a warm fail instance, or queue');
    expect(summaries.join('\n')).toMatch(/call fail on instance [0-9a-f-]{36}/);
    expect(summaries.join('\n')).toContain('record the end (FAILED) and give back the slot');
    const stats = await statsFor(request.id);
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ modelId: 'fail', resultSuccess: false });
    expect(stats[0]!.podReadyTimestamp).not.toBeNull();
    // `fail` keeps nothing warm: its instance is stopped as soon as it is given back.
    const events = await eventually(
      () => instanceEventsFor(body.id),
      (log) => log.includes('TERMINATED'),
    );
    expect(events).toEqual(['CREATED', 'SCHEDULED', 'READY', 'ASSIGNED', 'RELEASED', 'STOPPING', 'TERMINATED']);
  });

  it('a model that rejects its input fails at once, without retries', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, {
      model: 'sentiment',
      input: { inputs: [{ name: 'numbers', shape: [1], datatype: 'INT32', data: [7] }] },
    });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('FAILED');
    expect(request.error).toEqual({
      code: 'MODEL_REJECTED_INPUT',
      message: expect.stringContaining('BYTES input tensor'),
    });
    const history = await stack.temporal.workflow.getHandle(`request-${body.id}`).fetchHistory();
    expect(JSON.stringify(history)).not.toContain('BYTES input tensor');
  });

  it('hides a request from every other session (404, as if it did not exist)', async () => {
    const owner = await stack.api.anonymousToken();
    const stranger = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(owner, { model: 'echo', input: echoInput });
    const asStranger = await stack.api.call('GET', `/api/requests/${body.id}`, { token: stranger });
    expect(asStranger.status).toBe(404);
    expect(asStranger.body.error.code).toBe('REQUEST_NOT_FOUND');
    expect(JSON.stringify(asStranger.body)).not.toContain('numbers');
    await stack.api.waitUntilFinal(owner, body.id);
  });

  it('serves the web build at /', async () => {
    const page = await stack.api.call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<podium-app>');
    const script = await stack.api.call('GET', '/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
  });
});
