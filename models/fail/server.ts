import { serveModel } from '../oip-server.ts';

serveModel({
  name: 'fail',
  version: '1',
  platform: 'podium-node',
  inputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [],
  infer: async () => {
    throw new Error('the fail model fails every request, by design');
  },
});
