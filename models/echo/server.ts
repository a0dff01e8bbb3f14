import { setTimeout as sleep } from 'node:timers/promises';
import { serveModel } from '../oip-server.ts';

// `parameters.delay_ms` (at most a minute) makes a slow model, for timeouts and cancellation.
const maxDelayMs = 60_000;

// ECHO_LOAD_MS (its catalog env) makes a slow start, as a model loading its weights does.
await sleep(Number(process.env.ECHO_LOAD_MS ?? 0));

serveModel({
  name: 'echo',
  version: '1',
  platform: 'podium-node',
  // Echo takes any tensors and gives each back unchanged; these are what the examples send.
  inputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
  binaryTensors: true,
  infer: async (request) => {
    const delay = Number((request.parameters as { delay_ms?: unknown } | undefined)?.delay_ms ?? 0);
    if (delay > 0) await sleep(Math.min(delay, maxDelayMs));
    // A tensor that came in binary goes back in binary; its content type (an image's, say) goes back with it.
    return {
      outputs: request.inputs.map(({ name, shape, datatype, data, raw, parameters }) => {
        const typed =
          parameters?.content_type === undefined ? {} : { parameters: { content_type: parameters.content_type } };
        return raw ? { name, shape, datatype, raw, ...typed } : { name, shape, datatype, data, ...typed };
      }),
    };
  },
});
