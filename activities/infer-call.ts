import { ApplicationFailure } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import type { DatabasePool } from 'slonik';
import { findCompletePayloads, payloadCallFacts, removePayloads, writePayload } from '../db/payloads';
import { BinaryTensorError, binaryParts, checkedPart, decodeTensor, parseBinaryHeader } from '../domain/binary-tensors';
import { inferenceResponse, type InferenceRequest, type InferenceTensor } from '../domain/inference-protocol';
import {
  asPayloadTensor,
  binaryModelRequest,
  parametersWithout,
  payloadIdOf,
  payloadIdsOf,
} from '../domain/payload-tensors';
import { ByteReader } from '../lib/byte-reader';
import { readPayloadWhole, type PayloadStore } from '../lib/payload-store';
import type { ModelCallPlan } from './model-call-plan';

/** What an infer call needs to read and keep payloads. */
export type PayloadIo = { db: DatabasePool; payloads: PayloadStore };

export type InferWork = { requestId: string; modelId: string; servedModelName: string };

/**
 * OIP's infer, under the model's served name. Tensors kept as payloads go in binary, streamed
 * from the store, to a runtime that takes binary; to one that does not, they are converted to
 * JSON. A binary answer's tensors are streamed into payloads of the request's result.
 */
export async function inferPlan(input: InferenceRequest, work: InferWork, io: PayloadIo): Promise<ModelCallPlan> {
  const path = `/v2/models/${encodeURIComponent(work.servedModelName)}/infer`;
  const ids = payloadIdsOf(input.inputs);
  if (ids.length === 0)
    return { path, body: { ...input, id: work.requestId }, read: (response) => readJsonAnswer(response, work.modelId) };
  // Only a request with payloads asks a model for binary, and it alone needs these two facts.
  const { binaryTensors, ownerId } = await payloadCallFacts(io.db, work.requestId);
  const read = (response: Response) => readInferAnswer(response, { ...work, ownerId }, io);
  if (!binaryTensors) return { path, body: { ...(await withData(input, io)), id: work.requestId }, read };
  const sizes = new Map((await findCompletePayloads(io.db, ids)).map((row) => [row.id, row.size!]));
  const header = Buffer.from(JSON.stringify({ ...binaryModelRequest(input, sizes), id: work.requestId }), 'utf8');
  const length = header.length + ids.reduce((sum, id) => sum + (sizes.get(id) ?? 0), 0);
  return {
    path,
    body: null,
    binary: {
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
        'content-length': String(length),
      },
      bytes: (async function* () {
        yield header;
        for (const id of ids) yield* io.payloads.read(id);
      })(),
    },
    read,
  };
}

/** Payload tensors read and converted to JSON data, for a runtime that takes JSON only. */
async function withData(input: InferenceRequest, io: PayloadIo): Promise<InferenceRequest> {
  const inputs = await Promise.all(
    input.inputs.map(async (tensor): Promise<InferenceTensor> => {
      const id = payloadIdOf(tensor);
      if (id === undefined) return tensor;
      const bytes = await readPayloadWhole(io.payloads, id);
      try {
        const data = decodeTensor(tensor.name, tensor.datatype, tensor.shape, bytes);
        return { ...tensor, parameters: parametersWithout(tensor.parameters, 'payload'), data };
      } catch (error) {
        if (!(error instanceof BinaryTensorError)) throw error;
        throw ApplicationFailure.nonRetryable(
          `${tensor.name} cannot be sent as JSON, and the model's runtime takes JSON only: ${error.message}`,
          'INPUT_NOT_CONVERTIBLE',
        );
      }
    }),
  );
  return { ...input, inputs };
}

const badResponse = (modelId: string, why = 'something that is not an inference response') =>
  ApplicationFailure.nonRetryable(`model ${modelId} answered with ${why}`, 'MODEL_BAD_RESPONSE');

async function readJsonAnswer(response: Response, modelId: string) {
  const parsed = inferenceResponse.safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw badResponse(modelId);
  return parsed.data;
}

/** The model's answer: JSON as it is; binary, its tensors streamed into the result's payloads. */
async function readInferAnswer(response: Response, work: InferWork & { ownerId: string }, io: PayloadIo) {
  const headerLength = response.headers.get('inference-header-content-length');
  if (headerLength === null || !response.body) return readJsonAnswer(response, work.modelId);
  const reader = new ByteReader(response.body as unknown as AsyncIterable<Uint8Array>);
  const written: string[] = [];
  try {
    const header = parseBinaryHeader(await reader.readExactly(Number(headerLength)));
    const parts = binaryParts(header, 'outputs');
    const ids = new Map<number, string>();
    for (const part of parts) {
      const id = randomUUID();
      written.push(id);
      ids.set(part.index, id);
      await writePayload(
        io.db,
        io.payloads,
        { id, ownerId: work.ownerId, requestId: work.requestId, role: 'result' },
        checkedPart(part, reader.take(part.size)),
      );
    }
    if ((await reader.countRest()) > 0) throw badResponse(work.modelId, 'bytes after its last binary output');
    const outputs = (header as { outputs: InferenceTensor[] }).outputs.map((tensor, index) => {
      const id = ids.get(index);
      return id === undefined ? tensor : asPayloadTensor(tensor, id);
    });
    const parsed = inferenceResponse.safeParse({ ...(header as object), outputs });
    if (!parsed.success) throw badResponse(work.modelId);
    return parsed.data;
  } catch (error) {
    await removePayloads(io.db, io.payloads, written).catch(() => undefined);
    if (error instanceof BinaryTensorError)
      throw badResponse(work.modelId, `binary outputs that do not hold: ${error.message}`);
    throw error;
  }
}
