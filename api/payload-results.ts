import { Readable } from 'node:stream';
import type { CommonQueryMethods } from 'slonik';
import { findCompletePayloads } from '../db/payloads';
import { BinaryTensorError, decodeTensor, encodeTensor, type Datatype } from '../domain/binary-tensors';
import type { InferenceResponse, InferenceTensor } from '../domain/inference-protocol';
import { asBinaryTensor, parametersWithout, payloadIdOf, payloadOutputs } from '../domain/payload-tensors';
import type { RequestResult } from '../domain/work-request';
import { readPayloadWhole, type PayloadStore } from '../lib/payload-store';
import type { PayloadLinks } from './payload-links';

export type PayloadResultDeps = {
  db: CommonQueryMethods;
  payloads: PayloadStore;
  links: PayloadLinks;
  /** RESULT_INLINE_LIMIT, in bytes: payload outputs up to it (all together) are answered as data. */
  inlineLimit: number;
};

const isInferenceResponse = (result: RequestResult): result is InferenceResponse =>
  Array.isArray((result as { outputs?: unknown }).outputs) && 'model_name' in result;

/**
 * A payload tensor's elements as JSON can carry them; null when it cannot (NaN or an infinity,
 * BYTES that are not text): such a tensor is a link to its bytes instead.
 */
async function inJson(store: PayloadStore, tensor: InferenceTensor, id: string): Promise<unknown[] | null> {
  try {
    const data = decodeTensor(tensor.name, tensor.datatype, tensor.shape, await readPayloadWhole(store, id));
    return data.some((value) => typeof value === 'number' && !Number.isFinite(value)) ? null : data;
  } catch (error) {
    if (error instanceof BinaryTensorError) return null;
    throw error;
  }
}

/**
 * A result as a client reads it in JSON: outputs kept as payloads come back as `data` when they
 * are small together (RESULT_INLINE_LIMIT) and JSON can hold them; otherwise each is a signed,
 * expiring download link (`parameters.url`, with `size` and `expiresAt`) to its bytes.
 */
export async function presentResult<T extends RequestResult | null>(deps: PayloadResultDeps, result: T): Promise<T> {
  if (!result || !isInferenceResponse(result)) return result;
  const kept = payloadOutputs(result);
  if (kept.length === 0) return result;
  const sizes = new Map(
    (
      await findCompletePayloads(
        deps.db,
        kept.map(({ id }) => id),
      )
    ).map((row) => [row.id, row.size!]),
  );
  const total = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  const inline = total <= deps.inlineLimit;
  const outputs = await Promise.all(
    result.outputs.map(async (tensor): Promise<InferenceTensor> => {
      const id = payloadIdOf(tensor);
      if (id === undefined) return tensor;
      if (inline) {
        const data = await inJson(deps.payloads, tensor, id);
        if (data) return { ...tensor, parameters: parametersWithout(tensor.parameters, 'payload'), data };
      }
      const { url, expiresAt } = deps.links.sign(id);
      return { ...tensor, parameters: { ...tensor.parameters, size: sizes.get(id) ?? 0, url, expiresAt } };
    }),
  );
  return { ...result, outputs };
}

/**
 * An OIP answer with the wanted outputs in binary (the binary tensor data extension): a JSON
 * header, then each binary output's bytes, those kept as payloads streamed from the store;
 * null when no output is wanted in binary.
 */
export async function binaryAnswer(
  deps: PayloadResultDeps,
  response: InferenceResponse,
  wanted: (name: string) => boolean,
): Promise<{ body: Readable; headerLength: number; length: number } | null> {
  if (!response.outputs.some((tensor) => wanted(tensor.name))) return null;
  const kept = payloadOutputs(response).filter(({ tensor }) => wanted(tensor.name));
  const sizes = new Map(
    (
      await findCompletePayloads(
        deps.db,
        kept.map(({ id }) => id),
      )
    ).map((row) => [row.id, row.size!]),
  );
  const parts: (Uint8Array | string)[] = [];
  const outputs = response.outputs.map((tensor) => {
    const id = payloadIdOf(tensor);
    if (!wanted(tensor.name)) return tensor;
    if (id !== undefined) {
      parts.push(id);
      return asBinaryTensor(tensor, sizes.get(id) ?? 0);
    }
    const bytes = encodeTensor(tensor.datatype as Datatype, tensor.data ?? []);
    parts.push(bytes);
    const { data: _data, ...rest } = tensor;
    return { ...rest, parameters: { ...tensor.parameters, binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  const length =
    header.length +
    parts.reduce((sum, part) => sum + (typeof part === 'string' ? (sizes.get(part) ?? 0) : part.length), 0);
  const { payloads } = deps;
  const body = Readable.from(
    (async function* () {
      yield header;
      for (const part of parts) {
        if (typeof part === 'string') yield* payloads.read(part);
        else yield part;
      }
    })(),
  );
  return { body, headerLength: header.length, length };
}
