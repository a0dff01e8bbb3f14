import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import { removePayloads, writePayload } from '../db/payloads';
import {
  BinaryTensorError,
  binaryParts,
  checkedPart,
  headerByteCount,
  parseBinaryHeader,
  type BinaryPart,
} from '../domain/binary-tensors';
import { inferenceRequest, type InferenceRequest, type InferenceTensor } from '../domain/inference-protocol';
import { asPayloadTensor } from '../domain/payload-tensors';
import { ByteReader, BytesEndedEarly } from '../lib/byte-reader';
import type { PayloadStore } from '../lib/payload-store';
import { ApiError } from './http/errors';
import { outsideRequestBudget, setAside } from './http/request-budget';

export type PayloadDeps = {
  db: DatabasePool;
  payloads: PayloadStore;
  /** PAYLOAD_LIMIT, in bytes: the most a body that carries a payload may hold. */
  payloadLimit: number;
  /** REQUEST_BODY_LIMIT, in bytes: the most a binary body's JSON header may hold. */
  headerLimit: number;
};

/** The body's Content-Length; NaN when it has none (chunked), which no comparison passes. */
const declaredLength = (ctx: Context) => Number(ctx.get('content-length') || Number.NaN);

/**
 * A body's bytes, up to the limit: 413 before anything is read when its Content-Length says
 * more, and as soon as a body without one goes past it.
 */
export function bodyWithin(ctx: Context, limit: number): AsyncIterable<Uint8Array> {
  if (declaredLength(ctx) > limit) throw tooLarge(limit);
  return (async function* () {
    let received = 0;
    try {
      for await (const piece of ctx.req as AsyncIterable<Buffer>) {
        received += piece.length;
        if (received > limit) throw tooLarge(limit);
        yield piece;
      }
    } catch (error) {
      // The client went away halfway: nobody is left to answer, and nothing is kept.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        throw new ApiError(400, 'REQUEST_ABORTED', 'The request was aborted while its body was read');
      }
      throw error;
    }
  })();
}

const tooLarge = (limit: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than the limit (${limit} bytes, PAYLOAD_LIMIT)`, {
    limit,
  });

/** Any placeholder will do where a payload's id will be: the header is checked before a byte is stored. */
const placeholderId = '00000000-0000-4000-8000-000000000000';

/**
 * Reads a binary inference body (OIP's binary tensor data extension) as it comes: its JSON
 * header, checked whole before anything is stored; then each binary input's bytes, straight
 * into a payload of the caller's (`role: upload`, named by the submission that follows). Memory
 * holds the header and a piece of the body, whatever its size. A body that fails (short, long,
 * malformed, or cut by its client) leaves no payload behind.
 */
export async function readBinaryInference(
  ctx: Context,
  headerLength: string,
  ownerId: string,
  deps: PayloadDeps,
): Promise<{ request: InferenceRequest; payloadIds: string[] }> {
  const headerBytes = coded(() => headerByteCount(headerLength));
  if (headerBytes > deps.headerLimit) {
    throw new ApiError(
      413,
      'PAYLOAD_TOO_LARGE',
      `The JSON header (Inference-Header-Content-Length) is larger than the limit (${deps.headerLimit} bytes, REQUEST_BODY_LIMIT)`,
    );
  }
  const reader = new ByteReader(bodyWithin(ctx, deps.payloadLimit));
  const header = await reader.readExactly(headerBytes).catch((error: unknown) => {
    if (error instanceof BytesEndedEarly) {
      throw new ApiError(
        400,
        'INVALID_INFERENCE_HEADER_LENGTH',
        `Inference-Header-Content-Length (${headerBytes}) is larger than the body (${error.had} bytes)`,
      );
    }
    throw error;
  });
  const parsed = coded(() => parseBinaryHeader(header));
  const parts = coded(() => binaryParts(parsed, 'inputs'));
  // The whole request is checked (a placeholder where each payload will be) before a byte is stored.
  const template = inferenceRequest.parse(withPayloads(parsed, parts, () => placeholderId));
  const declared = declaredLength(ctx);
  const expected = headerBytes + parts.reduce((sum, part) => sum + part.size, 0);
  if (declared < expected) throw truncated(parts, declared - headerBytes);
  if (declared > expected) throw trailing(declared - expected);

  const ids: string[] = [];
  const started = Date.now();
  try {
    return await outsideRequestBudget(async () => {
      for (const part of parts) {
        const id = randomUUID();
        ids.push(id);
        await writePayload(
          deps.db,
          deps.payloads,
          { id, ownerId, requestId: null, role: 'upload' },
          checkedPart(part, reader.take(part.size)),
        );
      }
      const left = await reader.countRest();
      if (left > 0) throw trailing(left);
      const named = new Map(parts.map((part, at) => [part.index, ids[at]!]));
      return {
        request: { ...template, inputs: template.inputs.map((tensor, index) => withId(tensor, named.get(index))) },
        payloadIds: ids,
      };
    });
  } catch (error) {
    await outsideRequestBudget(() => removePayloads(deps.db, deps.payloads, ids)).catch(() => undefined);
    if (error instanceof BytesEndedEarly) throw truncated(parts, reader.received - headerBytes);
    if (error instanceof BinaryTensorError) throw new ApiError(400, error.code, error.message);
    throw error;
  } finally {
    // The body comes at its client's pace: the time it took is not the route's to answer in.
    setAside(Date.now() - started);
  }
}

const withId = (tensor: InferenceTensor, id: string | undefined) => (id ? asPayloadTensor(tensor, id) : tensor);

function withPayloads(header: unknown, parts: BinaryPart[], id: (part: BinaryPart) => string): unknown {
  const inputs = (header as { inputs: InferenceTensor[] }).inputs.map((tensor, index) => {
    const part = parts.find((candidate) => candidate.index === index);
    return part ? asPayloadTensor(tensor, id(part)) : tensor;
  });
  return { ...(header as object), inputs };
}

function coded<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof BinaryTensorError) throw new ApiError(400, error.code, error.message);
    throw error;
  }
}

const truncated = (parts: BinaryPart[], had: number) =>
  new ApiError(
    400,
    'BINARY_DATA_TRUNCATED',
    `The binary inputs (${parts.map((part) => `${part.name}: ${part.size}`).join(', ')} bytes) go past the end of the body (${Math.max(0, had)} byte(s) after the header)`,
  );

const trailing = (left: number) =>
  new ApiError(400, 'BINARY_DATA_TRAILING', `${left} byte(s) after the last binary input`);

/**
 * An upload (`POST /api/payloads`): the body's bytes as they come into a payload of the
 * caller's, which a request names in a tensor's `parameters.payload`.
 */
export async function readUpload(
  ctx: Context,
  ownerId: string,
  deps: PayloadDeps,
): Promise<{ id: string; size: number }> {
  const id = randomUUID();
  const bytes = bodyWithin(ctx, deps.payloadLimit);
  const started = Date.now();
  try {
    const size = await outsideRequestBudget(() =>
      writePayload(deps.db, deps.payloads, { id, ownerId, requestId: null, role: 'upload' }, bytes),
    );
    return { id, size };
  } finally {
    setAside(Date.now() - started);
  }
}
