import { serveModel } from '../oip-server.ts';

serveModel({
  name: 'echo',
  version: '1',
  platform: 'podium-node',
  infer: async (request) => ({ outputs: request.inputs.map(({ name, shape, datatype, data }) => ({ name, shape, datatype, data })) }),
});
