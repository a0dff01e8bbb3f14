import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

// @kubernetes/client-node 2.x is ESM-only; this pins down that jest loads it (the Kubernetes
// runtime comes in a later issue).
describe('@kubernetes/client-node under jest', () => {
  it('builds an API client from a kubeconfig', () => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'secret' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'tester' }],
      currentContext: 'test',
    });
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(config.makeApiClient(CoreV1Api)).toBeInstanceOf(CoreV1Api);
  });
});
