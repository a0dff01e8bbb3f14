import { parseConfig } from '../../domain/config';

describe('configuration', () => {
  it('has embedded defaults for everything', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      DATABASE_SCHEMA: 'podium',
      TEMPORAL_TASK_QUEUE: 'podium',
      REQUEST_BODY_LIMIT: '1mb',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    const config = parseConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: ' ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('names each bad variable', () => {
    expect(() => parseConfig({ PORT: 'eighty', DATABASE_SCHEMA: 'Robert"; DROP' })).toThrow(
      /PORT:[\s\S]*DATABASE_SCHEMA:/,
    );
  });

  describe('PODIUM_ENV=production', () => {
    const production = {
      PODIUM_ENV: 'production',
      WEBHOOK_SECRET: 'a secret of our own, long enough',
      PAYLOAD_URL_SECRET: 'another secret of our own',
      COOKIE_SECURE: 'true',
      DATABASE_URL: 'postgres://podium@db.internal/podium',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_API_KEY: 'a key of our own',
    };

    it('starts with real settings', () => {
      expect(parseConfig(production).PODIUM_ENV).toBe('production');
    });

    it('refuses each development default, naming the setting to fix', () => {
      expect(() => parseConfig({ PODIUM_ENV: 'production' })).toThrow(
        /WEBHOOK_SECRET: set a secret[\s\S]*PAYLOAD_URL_SECRET: set a secret[\s\S]*COOKIE_SECURE: set true[\s\S]*DATABASE_URL: set it[\s\S]*TEMPORAL_ADDRESS: set it/,
      );
      expect(() => parseConfig({ ...production, SIMULATED_CLUSTER: 'true' })).toThrow(/SIMULATED_CLUSTER: unset it/);
      expect(() => parseConfig({ ...production, NODE_PROVIDER: 'kwok' })).toThrow(/NODE_PROVIDER: kwok/);
    });

    it('refuses a Temporal it does not authenticate to: an API key or a client certificate', () => {
      const { TEMPORAL_API_KEY: _key, ...unauthenticated } = production;
      expect(() => parseConfig(unauthenticated)).toThrow(
        /TEMPORAL_API_KEY or TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: set them/,
      );
      expect(() => parseConfig({ ...unauthenticated, TEMPORAL_TLS_CERT_FILE: '/etc/podium/tls.crt' })).toThrow(
        /TEMPORAL_API_KEY or/,
      );
      expect(
        parseConfig({
          ...unauthenticated,
          TEMPORAL_TLS_CERT_FILE: '/etc/podium/tls.crt',
          TEMPORAL_TLS_KEY_FILE: '/etc/podium/tls.key',
        }).TEMPORAL_TLS_CERT_FILE,
      ).toBe('/etc/podium/tls.crt');
    });

    it('refuses the local runtime unless told it is meant', () => {
      expect(() => parseConfig({ ...production, INSTANCE_RUNTIME: 'local' })).toThrow(
        /INSTANCE_RUNTIME: local runs model code on the worker host/,
      );
      expect(
        parseConfig({ ...production, INSTANCE_RUNTIME: 'local', LOCAL_RUNTIME_IN_PRODUCTION: 'true' }).INSTANCE_RUNTIME,
      ).toBe('local');
    });

    it('leaves development alone', () => {
      expect(() => parseConfig({ SIMULATED_CLUSTER: 'true', NODE_PROVIDER: 'kwok' })).not.toThrow();
    });
  });
});
