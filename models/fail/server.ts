import { serveModel } from '../oip-server.ts';

serveModel({
  name: 'fail',
  version: '1',
  platform: 'podium-node',
  infer: async () => {
    throw new Error('the fail model fails every request, by design');
  },
});
