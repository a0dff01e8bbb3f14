import type { InferenceRequest, InferenceResponse, InferenceTensor } from './inference-protocol';

/**
 * Tensors kept as bytes (docs/payloads.md): a tensor with no `data` and `parameters.payload`,
 * the id of the payload that holds its elements as OIP's binary extension lays them out
 * (little-endian, row-major; a BYTES element is a 4-byte length and its bytes).
 */
type Parameters = Record<string, string | number | boolean>;
type WithParameters = { parameters?: Parameters };

export const payloadIdOf = (tensor: WithParameters): string | undefined =>
  typeof tensor.parameters?.payload === 'string' ? tensor.parameters.payload : undefined;

/** The payloads a list of tensors names, in order. */
export const payloadIdsOf = (tensors: readonly WithParameters[]): string[] =>
  tensors.map(payloadIdOf).filter((id) => id !== undefined);

/** Parameters without some keys; none left is none at all. */
export function parametersWithout(parameters: Parameters | undefined, ...keys: string[]): Parameters | undefined {
  if (!parameters) return undefined;
  const kept = Object.fromEntries(Object.entries(parameters).filter(([key]) => !keys.includes(key)));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** A tensor (from a binary body, or a model's binary answer) as Podium keeps it: its bytes in payload `id`. */
export function asPayloadTensor(tensor: InferenceTensor, id: string): InferenceTensor {
  const { data: _data, ...rest } = tensor;
  return { ...rest, parameters: { ...parametersWithout(tensor.parameters, 'binary_data_size'), payload: id } };
}

/** A payload tensor as a binary body carries it: `binary_data_size` where it had `payload`. */
export function asBinaryTensor(tensor: InferenceTensor, size: number): InferenceTensor {
  return { ...tensor, parameters: { ...parametersWithout(tensor.parameters, 'payload'), binary_data_size: size } };
}

/**
 * The request a model whose runtime takes binary is sent: payload tensors in binary after the
 * header (sizes by payload id), and every output asked for in binary.
 */
export function binaryModelRequest(request: InferenceRequest, sizes: ReadonlyMap<string, number>): InferenceRequest {
  return {
    ...request,
    parameters: { ...request.parameters, binary_data_output: true },
    inputs: request.inputs.map((tensor) => {
      const id = payloadIdOf(tensor);
      return id === undefined ? tensor : asBinaryTensor(tensor, sizes.get(id)!);
    }),
  };
}

/** A result's outputs that are payloads, with each one's id. */
export const payloadOutputs = (response: InferenceResponse) =>
  response.outputs.flatMap((tensor) => {
    const id = payloadIdOf(tensor);
    return id === undefined ? [] : [{ tensor, id }];
  });
