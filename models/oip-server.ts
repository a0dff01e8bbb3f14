// A minimal Open Inference Protocol v2 (REST) server for the demo models. It runs under plain
// Node 24 (type stripping), so it uses erasable TypeScript only and imports with extensions.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { runAsModelProcess } from './server-process.ts';

/**
 * A tensor: its elements in `data`, or, when it came in binary (OIP's binary tensor data
 * extension), its bytes in `raw`. A model gives `raw` back to answer in binary.
 */
export type Tensor = {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown[];
  raw?: Uint8Array;
  parameters?: Record<string, unknown>;
};
export type InferRequest = { id?: string; inputs: Tensor[]; parameters?: object };
export type InferResponse = { model_name: string; model_version?: string; id?: string; outputs: Tensor[] };

/** Thrown by a model for input it cannot handle: answered with 400, never retried. */
export class ModelInputError extends Error {}

/** A tensor the model takes or gives, as OIP's model metadata lists it (-1: any length). */
export type TensorMetadata = { name: string; datatype: string; shape: number[] };

export type ModelDefinition = {
  name: string;
  version: string;
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  infer: (request: InferRequest) => Promise<Omit<InferResponse, 'model_name' | 'model_version' | 'id'>>;
  /** The model takes tensors in binary (`raw`); a server without it refuses binary bodies. */
  binaryTensors?: boolean;
};

const maxBodyBytes = 128 * 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ModelInputError(`request body exceeds ${maxBodyBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ModelInputError('request body is not valid JSON');
  }
}

/** A binary body: its JSON header, each binary input's bytes as its `raw`. */
function binaryRequest(body: Buffer, headerLength: number): unknown {
  if (!(headerLength <= body.length)) throw new ModelInputError('Inference-Header-Content-Length is past the body');
  const header = parseJson(body.subarray(0, headerLength)) as { inputs?: Tensor[] };
  let at = headerLength;
  for (const tensor of header.inputs ?? []) {
    const size = tensor.parameters?.binary_data_size;
    if (typeof size !== 'number') continue;
    if (at + size > body.length) throw new ModelInputError(`${tensor.name}: binary_data_size goes past the body`);
    tensor.raw = body.subarray(at, at + size);
    at += size;
    delete tensor.parameters!.binary_data_size;
  }
  return header;
}

/** Sends an answer; outputs with `raw` go in binary after a JSON header. */
function sendAnswer(response: ServerResponse, answer: InferResponse) {
  const binaries: Uint8Array[] = [];
  const outputs = answer.outputs.map(({ raw, ...tensor }) => {
    if (!raw) return tensor;
    binaries.push(raw);
    return { ...tensor, parameters: { ...tensor.parameters, binary_data_size: raw.length } };
  });
  if (binaries.length === 0) return send(response, 200, answer);
  const header = Buffer.from(JSON.stringify({ ...answer, outputs }), 'utf8');
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(header.length),
    'content-length': String(header.length + binaries.reduce((sum, bytes) => sum + bytes.length, 0)),
  });
  response.write(header);
  for (const bytes of binaries) response.write(bytes);
  response.end();
}

function isInferRequest(body: unknown): body is InferRequest {
  const inputs = (body as InferRequest | null)?.inputs;
  return (
    Array.isArray(inputs) &&
    inputs.every((t) => typeof t?.name === 'string' && (Array.isArray(t.data) || t.raw instanceof Uint8Array))
  );
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export function serveModel(definition: ModelDefinition) {
  // The catalog may serve one server under several names (PODIUM_MODEL_NAME, set by the runtime).
  const model = { ...definition, name: process.env.PODIUM_MODEL_NAME || definition.name };
  const base = `/v2/models/${model.name}`;
  // Every failure is answered inside: the request's promise never rejects.
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url?.split('?')[0] ?? '/';
    try {
      if (request.method === 'GET' && (url === '/v2/health/live' || url === '/v2/health/ready')) {
        return send(response, 200, { live: true, ready: true });
      }
      if (request.method === 'GET' && url === '/v2') {
        return send(response, 200, { name: 'podium-demo', version: '0.1.0', extensions: [] });
      }
      if (request.method === 'GET' && url === `${base}/ready`) return send(response, 200, { ready: true });
      if (request.method === 'GET' && url === base) {
        return send(response, 200, {
          name: model.name,
          versions: [model.version],
          platform: model.platform,
          inputs: model.inputs,
          outputs: model.outputs,
        });
      }
      if (request.method === 'POST' && url === `${base}/infer`) {
        // The binary tensor data extension: binary inputs come as `raw`; outputs with `raw` go back in binary.
        const headerLength = request.headers['inference-header-content-length'];
        if (headerLength !== undefined && !model.binaryTensors) {
          throw new ModelInputError(
            'the binary tensor data extension is not supported: send tensors as JSON (tritonclient: binary_data=False)',
          );
        }
        const bytes = await readBody(request);
        const body = headerLength === undefined ? parseJson(bytes) : binaryRequest(bytes, Number(headerLength));
        if (!isInferRequest(body)) throw new ModelInputError('body must be an inference request with "inputs"');
        const result = await model.infer(body);
        return sendAnswer(response, { model_name: model.name, model_version: model.version, id: body.id, ...result });
      }
      send(response, 404, { error: `no route ${request.method} ${url}` });
    } catch (error) {
      if (error instanceof ModelInputError) return send(response, 400, { error: error.message });
      send(response, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  };
  const server = createServer((request, response) => void answer(request, response));

  runAsModelProcess(server, model.name);
}
