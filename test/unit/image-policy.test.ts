import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { modelPod } from '../../activities/runtime/kubernetes/pod-manifest';
import { imagePolicyOf, parseConfig } from '../../domain/config';
import { imageProblems } from '../../domain/image-policy';
import { echoModel } from '../support/models';

const digest = `@sha256:${'ab'.repeat(32)}`;
const ours = { registries: ['registry.example.com/podium'], requireDigest: true };

describe('which images a model may run on Kubernetes', () => {
  it.each([
    ['an image of an allowed registry, by digest', `registry.example.com/podium/echo${digest}`],
    ['one with a tag and a digest', `registry.example.com/podium/echo:1.0${digest}`],
  ])('runs %s', (_name, image) => {
    expect(imageProblems(image, ours)).toEqual([]);
  });

  it.each([
    [
      'another registry',
      `docker.io/library/alpine${digest}`,
      'comes from none of the registries the operator allows (MODEL_IMAGE_REGISTRIES: registry.example.com/podium)',
    ],
    ['a look-alike prefix', `registry.example.com/podium-evil/x${digest}`, 'comes from none of the registries'],
    [
      'a tag where a digest is required',
      'registry.example.com/podium/echo:latest',
      'names a tag, and production runs images by digest',
    ],
  ])('refuses %s', (_name, image, problem) => {
    expect(imageProblems(image, ours).join('; ')).toContain(problem);
  });

  it('lets anything run where nothing is configured, as in development', () => {
    expect(imageProblems('alpine:3', imagePolicyOf(parseConfig({})))).toEqual([]);
  });

  it('requires digests in production, whatever MODEL_IMAGE_REQUIRE_DIGEST says', () => {
    expect(
      imagePolicyOf({ PODIUM_ENV: 'production', MODEL_IMAGE_REGISTRIES: [], MODEL_IMAGE_REQUIRE_DIGEST: false })
        .requireDigest,
    ).toBe(true);
  });

  it('pulls `latest` (or no tag) every time, since it moves, and a digest or a version only when the node lacks it', () => {
    const pullPolicy = (image: string) =>
      modelPod({
        instanceId: 'x',
        model: { ...echoModel, containerImage: image },
        annotations: {},
        startupTimeoutMs: 1,
      }).spec!.containers[0]!.imagePullPolicy;
    expect(pullPolicy('registry.example.com:5000/podium/echo')).toBe('Always');
    expect(pullPolicy('registry.example.com/podium/echo:latest')).toBe('Always');
    expect(pullPolicy('registry.example.com:5000/podium/echo:0.2.0')).toBe('IfNotPresent');
    expect(pullPolicy(`registry.example.com/podium/echo${digest}`)).toBe('IfNotPresent');
  });

  it('the Kubernetes runtime refuses an image its policy does not allow, before it asks the cluster for anything', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const runtime = new KubernetesRuntime({
      kubeConfig,
      namespace: 'models',
      endpointSource: 'pod-ip',
      imagePolicy: ours,
    });
    const start = runtime.start({
      instanceId: 'x',
      model: { ...echoModel, containerImage: 'docker.io/evil/miner:latest' },
      annotations: {},
      startupTimeoutMs: 1,
    });
    await expect(start).rejects.toThrow(
      'the image docker.io/evil/miner:latest may not run: it comes from none of the registries',
    );
  });
});
