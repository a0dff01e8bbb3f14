import { isDeepStrictEqual } from 'node:util';
import type { CommonQueryMethods } from 'slonik';
import { findCompletePayloads } from '../../db/payloads';
import { BinaryTensorError, bytesElementsChecker, checkTensorSize } from '../../domain/binary-tensors';
import { isGenerateStreamCall } from '../../domain/inference-protocol';
import { isOpenAiCall } from '../../domain/openai-api';
import { payloadIdOf, payloadIdsOf } from '../../domain/payload-tensors';
import type { RequestInput } from '../../domain/work-request';
import type { PayloadStore } from '../../lib/payload-store';
import { ApiError } from '../http/errors';

/** The payloads an input names (OIP tensors' `parameters.payload`), in order. */
export function namedPayloads(input: RequestInput): string[] {
  if (isOpenAiCall(input)) return [];
  return payloadIdsOf(isGenerateStreamCall(input) ? input.body.inputs : input.inputs);
}

/**
 * Checks the uploads an input names: each is the owner's, complete and named by no other
 * request, and holds a tensor of its shape and datatype. A BYTES upload is read through to check
 * its elements, unless the caller just did (a binary body, checked as it came).
 */
export async function checkNamedPayloads(
  db: CommonQueryMethods,
  store: PayloadStore,
  ownerId: string,
  input: RequestInput,
  checked: ReadonlySet<string> = new Set(),
): Promise<void> {
  const ids = namedPayloads(input);
  if (ids.length === 0 || isOpenAiCall(input)) return;
  if (isGenerateStreamCall(input)) {
    throw new ApiError(400, 'PAYLOAD_NOT_STREAMED', 'A streamed generate call takes its tensors as data, not payloads');
  }
  if (new Set(ids).size !== ids.length) {
    throw new ApiError(400, 'PAYLOAD_NAMED_TWICE', 'Each upload may be named by one tensor');
  }
  const rows = new Map((await findCompletePayloads(db, ids)).map((row) => [row.id, row]));
  for (const tensor of input.inputs) {
    const id = payloadIdOf(tensor);
    if (id === undefined) continue;
    const row = rows.get(id);
    if (!row || row.ownerId !== ownerId) {
      throw new ApiError(400, 'UNKNOWN_PAYLOAD', `${tensor.name}: there is no complete upload ${id} of yours`, {
        payload: id,
      });
    }
    if (row.role !== 'upload') {
      throw new ApiError(409, 'PAYLOAD_ALREADY_USED', `${tensor.name}: upload ${id} is another request's input`, {
        payload: id,
        requestId: row.requestId,
      });
    }
    try {
      checkTensorSize(tensor, row.size!);
      if (tensor.datatype === 'BYTES' && !checked.has(id)) {
        const checker = bytesElementsChecker(tensor.name, tensor.shape);
        for await (const piece of store.read(id)) checker.feed(piece);
        checker.end();
      }
    } catch (error) {
      if (error instanceof BinaryTensorError) throw new ApiError(400, error.code, error.message, { payload: id });
      throw error;
    }
  }
}

/**
 * The same input, payloads compared by their bytes' digests: a retried binary body (the same
 * Idempotency-Key) stores its bytes again under new ids.
 */
export async function sameInput(db: CommonQueryMethods, a: RequestInput, b: RequestInput): Promise<boolean> {
  if (isDeepStrictEqual(a, b)) return true;
  const ids = [...namedPayloads(a), ...namedPayloads(b)];
  if (ids.length === 0) return false;
  const digests = new Map((await findCompletePayloads(db, ids)).map((row) => [row.id, row.sha256]));
  const byDigest = (input: RequestInput) =>
    JSON.parse(
      JSON.stringify(input, (key, value: unknown) =>
        key === 'payload' && typeof value === 'string' ? `sha256:${digests.get(value) ?? value}` : value,
      ),
    ) as unknown;
  return isDeepStrictEqual(byDigest(a), byDigest(b));
}
