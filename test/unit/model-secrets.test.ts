import { modelPod } from '../../activities/runtime/kubernetes/pod-manifest';
import {
  auditedEnvironment,
  redactedEnvironment,
  restoredEnvironment,
  workerSecretVariable,
} from '../../domain/model-secrets';
import { echoModel } from '../support/models';

const ref = { secretKeyRef: { name: 'hf', key: 'token' } };

describe("a model's secrets", () => {
  it('a read shows references, and ordinary values, but not a literal that looks like a secret', () => {
    expect(
      redactedEnvironment({
        HF_TOKEN: 'hf_abc',
        DB_PASSWORD: 'pw',
        API_KEY: 'k',
        MODEL_SIZE: 'small',
        HF_HOME: '/tmp',
        OTHER_TOKEN: ref,
      }),
    ).toEqual({
      HF_TOKEN: '[redacted]',
      DB_PASSWORD: '[redacted]',
      API_KEY: '[redacted]',
      MODEL_SIZE: 'small',
      HF_HOME: '/tmp',
      OTHER_TOKEN: ref,
    });
  });

  it('an audit row keeps no literal value at all, only references', () => {
    expect(auditedEnvironment({ MODEL_SIZE: 'small', HF_TOKEN: ref })).toEqual({
      MODEL_SIZE: '[redacted]',
      HF_TOKEN: ref,
    });
  });

  it('writing back what a read showed keeps the stored values; a [redacted] with nothing stored is named', () => {
    const stored = { HF_TOKEN: 'hf_abc', MODEL_SIZE: 'small' };
    expect(restoredEnvironment({ HF_TOKEN: '[redacted]', MODEL_SIZE: 'large' }, stored)).toEqual({
      env: { HF_TOKEN: 'hf_abc', MODEL_SIZE: 'large' },
      missing: [],
    });
    expect(restoredEnvironment({ NEW_SECRET: '[redacted]' }, stored).missing).toEqual(['NEW_SECRET']);
  });

  it("a pod names its Secret's key, and never holds the secret", () => {
    const pod = modelPod({
      instanceId: 'x',
      model: { ...echoModel, containerEnv: { HF_TOKEN: ref, MODEL_SIZE: 'small' } },
      annotations: {},
      startupTimeoutMs: 1,
    });
    const env = pod.spec!.containers[0]!.env!;
    expect(env).toContainEqual({ name: 'HF_TOKEN', valueFrom: ref });
    expect(env).toContainEqual({ name: 'MODEL_SIZE', value: 'small' });
  });

  it("a worker's secret is read from its own environment, under a name that says what it is", () => {
    expect(workerSecretVariable({ secret: 'hf-token' })).toBe('PODIUM_MODEL_SECRET_HF_TOKEN');
  });
});
