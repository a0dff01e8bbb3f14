// A minimal Open Inference Protocol v2 (REST) server for the demo models. It runs under plain
// Node 24 (type stripping), so it uses erasable TypeScript only and imports with extensions.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { runAsModelProcess } from './server-process.ts';

export type Tensor = { name: string; shape: number[]; datatype: string; data: unknown[]; parameters?: object };
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
};

const maxBodyBytes = 16 * 1024 * 1024;

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ModelInputError(`request body exceeds ${maxBodyBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ModelInputError('request body is not valid JSON');
  }
}

function isInferRequest(body: unknown): body is InferRequest {
  const inputs = (body as InferRequest | null)?.inputs;
  return Array.isArray(inputs) && inputs.every((t) => typeof t?.name === 'string' && Array.isArray(t.data));
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
        // Triton's binary tensor data extension (tritonclient's default) is not spoken here.
        if (request.headers['inference-header-content-length'] !== undefined) {
          throw new ModelInputError(
            'the binary tensor data extension is not supported: send tensors as JSON (tritonclient: binary_data=False)',
          );
        }
        const body = await readJson(request);
        if (!isInferRequest(body)) throw new ModelInputError('body must be an inference request with "inputs"');
        const result = await model.infer(body);
        return send(response, 200, { model_name: model.name, model_version: model.version, id: body.id, ...result });
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
