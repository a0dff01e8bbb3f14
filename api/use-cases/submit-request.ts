import { randomUUID } from 'node:crypto';
import { UniqueIntegrityConstraintViolationError, type DatabasePool } from 'slonik';
import { findModel, listModels } from '../../db/models';
import type { ModelProtocol, ModelSpec } from '../../domain/model-catalog';
import { isGenerateStreamCall } from '../../domain/inference-protocol';
import { isOpenAiCall, streams, withinTokenLimit } from '../../domain/openai-api';
import { requestsSubmitted } from '../../lib/metrics';
import type { PayloadStore } from '../../lib/payload-store';
import { nameUploads } from '../../db/payloads';
import { checkNamedPayloads, namedPayloads, sameInput } from './named-payloads';
import {
  countOpenRequests,
  findByIdempotencyKey,
  findOwnWorkRequest,
  insertWorkRequest,
  ownerId,
  ownerOf,
  readQueueShare,
  type RequestOwner,
} from '../../db/work-requests';
import type { Principal } from '../../domain/accounts';
import { defaultPriority, withinCeiling, type RequestPriority } from '../../domain/request-priority';
import { findPriorityCeiling } from '../../db/users';
import { resolveDeadline } from '../../domain/request-deadline';
import { deadlineReachable } from '../../domain/queue-estimate';
import { readJoiningPosition } from '../../db/queue-estimate';
import { protocolOf, type RequestInput, type SubmitWorkRequest, type WorkRequestView } from '../../domain/work-request';
import { requestWorkflowId } from '../../workflows/contracts';
import { ApiError } from '../http/errors';
import type { RequestQuotas } from '../auth/request-quotas';
import type { RequestWorkflows } from '../request-workflows';

/** A new request (`replayed` false), or the one this Idempotency-Key made before (true). */
export type Submission = { request: WorkRequestView; replayed: boolean };

/**
 * Submits a work request: its row and its workflow, together. If the workflow cannot start, the
 * insert is rolled back: the caller gets a 503 and nothing is stored.
 *
 * The same Idempotency-Key with the same ask gives the first request back. The same key with
 * another ask is a 422.
 */
export async function submitRequest(
  {
    db,
    workflows,
    quotas,
    payloads,
  }: { db: DatabasePool; workflows: RequestWorkflows; quotas: RequestQuotas; payloads: PayloadStore },
  principal: Principal,
  asked: SubmitWorkRequest,
  key: string | undefined,
  /** The model, when the caller has read it already (a front door that names it). */
  model?: ModelSpec,
  /** Uploads the caller has checked already (a binary body's, checked as it came). */
  checkedPayloads?: ReadonlySet<string>,
): Promise<Submission> {
  const owner = ownerOf(principal);
  const priority = asked.priority ?? defaultPriority;
  await checkPriorityCeiling(db, principal, priority);
  const deadlineAt = asked.deadline === undefined ? null : checkedDeadline(asked.deadline);
  const body = await fittedToModel(db, asked, model);
  const uploads = namedPayloads(body.input);
  if (uploads.length > 0) await checkNamedPayloads(db, payloads, ownerId(owner), body.input, checkedPayloads);
  // A repeated key is found by the insert's unique index, not by a read before it: most
  // submissions carry a key and are new, and the read was a statement on each of them.
  const replayed = async () => {
    const earlier = key ? await replay(db, owner, key, body) : null;
    return earlier ? { request: earlier, replayed: true } : null;
  };
  try {
    await quotas.takeSubmission(principal);
  } catch (error) {
    const again = await replayed(); // a retry is not a new submission
    if (again) return again;
    throw error;
  }
  const maxInFlight = quotas.maxInFlight(principal);
  if (deadlineAt !== null) {
    const unreachable = await deadlineUnreachable(db, body.model, principal, priority, deadlineAt);
    if (unreachable) {
      const again = await replayed(); // the first was admitted: its retry gets it back
      if (again) return again;
      quotas.returnSubmission(principal);
      throw unreachable;
    }
  }

  const id = randomUUID();
  try {
    const request = await db.transaction(async (transaction) => {
      const row = await insertWorkRequest(transaction, {
        id,
        modelId: body.model,
        principal,
        input: body.input,
        workflowId: requestWorkflowId(id),
        webhookUrl: body.webhook,
        idempotencyKey: key,
        priority,
        deadlineAt,
        maxInFlight,
      });
      if (!row) return null; // refused: why is read after the transaction, on the pool
      if (uploads.length > 0) {
        if ((await nameUploads(transaction, id, ownerId(owner), uploads)) !== uploads.length) {
          throw new ApiError(
            409,
            'PAYLOAD_ALREADY_USED',
            'An upload this request names was just named by another request',
          );
        }
      }
      await workflows.start(id, body.model, { ownerKind: principal.kind, priority, deadlineAt });
      return row;
    });
    if (!request) {
      const again = await replayed(); // the caps count the first request: its retry gets it back
      if (again) return again;
      throw await refusal(db, body.model, { principal, maxInFlight, protocol: protocolOf(body.input) });
    }
    requestsSubmitted.inc({ model: body.model });
    return { request, replayed: false };
  } catch (error) {
    // The key was used before (or by the same submission, sent twice at once).
    if (key && error instanceof UniqueIntegrityConstraintViolationError) {
      const again = await replayed();
      if (again) {
        quotas.returnSubmission(principal);
        return again;
      }
    }
    throw error;
  }
}

/**
 * Why no row was written: the model does not exist, the owner has too many requests on their
 * way, too many requests already wait for the model, or the owner has their share of them.
 */
async function refusal(
  db: DatabasePool,
  modelId: string,
  quota: { principal: Principal; maxInFlight: number; protocol: ModelProtocol },
): Promise<ApiError> {
  const models = await listModels(db);
  const model = models.find((candidate) => candidate.id === modelId);
  if (!model) {
    return new ApiError(400, 'UNKNOWN_MODEL', `There is no model "${modelId}"; GET /api/models lists them`, {
      available: models.map((candidate) => candidate.id),
    });
  }
  if (model.protocol !== quota.protocol) return protocolMismatch(model);
  if ((await countOpenRequests(db, ownerOf(quota.principal))) >= quota.maxInFlight) {
    return new ApiError(
      429,
      'TOO_MANY_REQUESTS_IN_FLIGHT',
      `You have ${quota.maxInFlight} requests on their way; wait for some to end`,
      {
        maxInFlight: quota.maxInFlight,
        retryAfterSeconds: 1,
      },
    );
  }
  const line = await readQueueShare(db, modelId, quota.principal);
  if (line.waiting < model.maxWaiting) {
    return new ApiError(
      429,
      'QUEUE_SHARE_FULL',
      `You have ${line.mine} requests waiting for ${modelId}, your share of its line while ${line.others} others wait too; try again when some have started`,
      { mine: line.mine, share: line.share, owners: line.others + 1, retryAfterSeconds: 1 },
    );
  }
  return new ApiError(
    429,
    'MODEL_QUEUE_FULL',
    `${model.maxWaiting} requests already wait for ${modelId}; try again later`,
    {
      maxWaiting: model.maxWaiting,
      retryAfterSeconds: model.startupTimeoutSeconds,
    },
  );
}

/**
 * An OpenAI call as its model takes it: checked against the catalog (the model speaks the
 * OpenAI API; `max_tokens` within its limit, and the limit asked for when none is). An OIP input
 * is checked by the insert itself, which costs no statement.
 */
async function fittedToModel(
  db: DatabasePool,
  body: SubmitWorkRequest,
  known: ModelSpec | undefined,
): Promise<SubmitWorkRequest> {
  const { input: asked } = body;
  if (!isOpenAiCall(asked) && !isGenerateStreamCall(asked)) return body;
  const model = known ?? (await findModel(db, body.model));
  // A model that is not there (or, for generate_stream, speaks the OpenAI API): the insert refuses it, and says why.
  if (!model) return body;
  if (isGenerateStreamCall(asked)) {
    if (model.protocol === 'oip-v2' && !model.streams) throw protocolMismatch(model, true);
    return body;
  }
  if (model.protocol !== 'openai') throw protocolMismatch(model, streams(asked));
  const input = withinTokenLimit(asked, model.maxTokens);
  if (!input) {
    throw new ApiError(
      400,
      'MAX_TOKENS_TOO_LARGE',
      `${body.model} gives at most ${model.maxTokens} tokens per request; ask for fewer (max_tokens)`,
      { maxTokens: model.maxTokens },
    );
  }
  return { ...body, input };
}

function protocolMismatch(model: ModelSpec, streamed = false): ApiError {
  if (model.protocol === 'openai') {
    return new ApiError(
      400,
      'MODEL_PROTOCOL_MISMATCH',
      `${model.id} speaks the OpenAI API: send { "url": "/v1/chat/completions", "body": { "messages": [...] } } (or /v1/completions, /v1/embeddings), or use POST /v1/chat/completions`,
      { protocol: model.protocol },
    );
  }
  if (streamed) {
    return new ApiError(
      400,
      'MODEL_CANNOT_STREAM',
      model.streams
        ? `${model.id} speaks the Open Inference Protocol: stream from POST /v2/models/${model.id}/generate_stream`
        : `${model.id} cannot stream (its catalog entry does not say streams: true); send it an OIP inference request without stream`,
      { protocol: model.protocol, streams: model.streams },
    );
  }
  return new ApiError(
    400,
    'MODEL_PROTOCOL_MISMATCH',
    `${model.id} speaks the Open Inference Protocol: send an inference request ({ "inputs": [...] }), or use POST /v2/models/${model.id}/infer`,
    { protocol: model.protocol },
  );
}

/**
 * A priority above the caller's ceiling is refused: anonymous sessions ask for normal at most,
 * users for what an admin granted them (normal unless high was granted).
 */
async function checkPriorityCeiling(db: DatabasePool, principal: Principal, priority: RequestPriority) {
  if (withinCeiling(priority, defaultPriority)) return;
  const ceiling = principal.kind === 'user' ? await findPriorityCeiling(db, principal.userId) : defaultPriority;
  if (withinCeiling(priority, ceiling)) return;
  throw new ApiError(
    400,
    'PRIORITY_ABOVE_CEILING',
    principal.kind === 'user'
      ? `You may ask for ${ceiling} priority at most; an admin can grant more`
      : `An anonymous session may ask for ${ceiling} priority at most; sign in, and ask an admin for more`,
    { ceiling },
  );
}

/** The body with the `Cancel-After` header's deadline; both at once is a 400 (which one was meant?). */
export function withCancelAfter(body: SubmitWorkRequest, cancelAfter: string | undefined): SubmitWorkRequest {
  if (cancelAfter === undefined) return body;
  if (body.deadline !== undefined) {
    throw new ApiError(
      400,
      'INVALID_DEADLINE',
      "Give the deadline once: the body's deadline or Cancel-After, not both",
    );
  }
  return { ...body, deadline: cancelAfter };
}

/**
 * A 429 when the model's line says the request could not end by its deadline (it is not queued
 * to expire); null when it can, or when nothing has been measured to say.
 */
async function deadlineUnreachable(
  db: DatabasePool,
  modelId: string,
  principal: Principal,
  priority: RequestPriority,
  deadlineAt: number,
): Promise<ApiError | null> {
  const line = await readJoiningPosition(db, modelId, principal, priority);
  if (!line) return null; // no such model: the insert says so
  const now = Date.now();
  const { reachable, startSeconds } = deadlineReachable(line.position, (deadlineAt - now) / 1000, line);
  if (reachable || startSeconds === null) return null;
  const serviceSeconds = line.serviceSeconds!;
  return new ApiError(
    429,
    'DEADLINE_UNREACHABLE',
    `${modelId} would start this request in about ${round(startSeconds)} s (number ${line.position} in its line) and takes about ${round(serviceSeconds)} s: it cannot end by its deadline, ${round((deadlineAt - now) / 1000)} s away. Try later, or give it more time`,
    {
      position: line.position,
      estimatedStartAt: new Date(now + startSeconds * 1000).toISOString(),
      estimatedStartSeconds: round(startSeconds),
      serviceSeconds: round(serviceSeconds),
      retryAfterSeconds: Math.max(1, Math.ceil(startSeconds)),
    },
  );
}

const round = (seconds: number) => Math.round(seconds * 10) / 10;

/** The deadline's time (epoch ms), or a coded 400 saying what is wrong with it. */
function checkedDeadline(asked: string): number {
  const deadline = resolveDeadline(asked, Date.now());
  if ('problem' in deadline) throw new ApiError(400, deadline.problem.code, deadline.problem.message);
  return deadline.at;
}

/**
 * The same key and the same ask: the first request back. The same key, another ask: 422. A
 * deadline is not compared: a retried `Cancel-After: 30s` names a later time than the first.
 */
async function replay(db: DatabasePool, owner: RequestOwner, key: string, body: SubmitWorkRequest) {
  const earlier = await findByIdempotencyKey(db, owner, key);
  if (!earlier) return null;
  const same =
    earlier.model === body.model &&
    (await sameInput(db, earlier.input as RequestInput, body.input)) &&
    earlier.webhookUrl === (body.webhook ?? null) &&
    earlier.priority === (body.priority ?? defaultPriority);
  if (!same) {
    throw new ApiError(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used for a different request; use a new key',
    );
  }
  return findOwnWorkRequest(db, earlier.id, owner);
}
