import { KubeConfig } from '@kubernetes/client-node';
import { createAutoscaler, parseNodeTypes } from '../../activities/nodes/create-autoscaler';
import { parseConfig } from '../../domain/config';
import { simulatedNodeTypes } from '../../infra/test-cluster/kwok-provider';

describe('which node types the autoscaler may add', () => {
  it('takes them from NODE_TYPES, with quantities parsed', () => {
    const [type] = parseNodeTypes(
      '[{"name":"gpu-a10","cpu":"8","memory":"32Gi","gpu":1,"hourlyPrice":1.01,"maxNodes":4}]',
    );
    expect(type).toEqual({
      name: 'gpu-a10',
      capacity: { cpu: 8, memory: 32 * 1024 ** 3, gpu: 1, pods: 110 },
      hourlyPrice: 1.01,
      maxNodes: 4,
    });
  });

  it('requires NODE_TYPES for a real provider: machine types are never guessed', () => {
    expect(() => parseNodeTypes(undefined)).toThrow(/NODE_TYPES is required/);
    const config = parseConfig({ NODE_PROVIDER: 'cluster-api' });
    expect(() => createAutoscaler(config, new KubeConfig())).toThrow(/NODE_TYPES is required/);
  });

  it("defaults to the simulated cluster's types for kwok, whose parts the caller loads", () => {
    expect(parseNodeTypes(undefined, simulatedNodeTypes)).toBe(simulatedNodeTypes);
    const config = parseConfig({ NODE_PROVIDER: 'kwok' });
    expect(() => createAutoscaler(config, new KubeConfig())).toThrow(/kwok provider was not loaded/);
  });
});
