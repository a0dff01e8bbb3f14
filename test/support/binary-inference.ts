/** OIP's binary tensor data extension, as a client writes and reads it (tests and benches). */
export type BinaryTensor = { name: string; datatype: string; shape: number[]; bytes: Buffer };

/** A binary infer body: the JSON header, then each tensor's bytes; every output asked for in binary. */
export function binaryInferBody(tensors: BinaryTensor[], extra: Record<string, unknown> = {}) {
  const header = Buffer.from(
    JSON.stringify({
      ...extra,
      inputs: tensors.map(({ name, datatype, shape, bytes }) => ({
        name,
        datatype,
        shape,
        parameters: { binary_data_size: bytes.length },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return { body: Buffer.concat([header, ...tensors.map((tensor) => tensor.bytes)]), headerLength: header.length };
}

/** A binary answer's header and each binary output's bytes, by name. */
export function readBinaryAnswer(body: Buffer, headerLength: number) {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as {
    outputs: { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size?: number } }[];
  };
  const outputs = new Map<string, Buffer>();
  let at = headerLength;
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    outputs.set(output.name, body.subarray(at, at + size));
    at += size;
  }
  return { header, outputs, trailing: body.length - at };
}

/** POSTs a binary infer; the answer's status, headers and bytes. */
export async function postBinaryInfer(
  url: string,
  token: string,
  { body, headerLength }: { body: Buffer; headerLength: number },
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
      ...headers,
    },
    body: new Uint8Array(body),
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}
