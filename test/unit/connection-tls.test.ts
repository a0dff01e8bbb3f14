import { planDatabaseTls, planTemporalTls } from '../../domain/connection-tls';
import { temporalConnection } from '../../infra/connections';

const url = 'postgres://podium:secret@db.example.com:5432/podium';
const none = {};

describe("planDatabaseTls: PostgreSQL TLS as libpq's sslmode means it", () => {
  it.each([
    ['no setting: a plain connection', url, none, { mode: null }],
    ['DATABASE_SSL_MODE alone', url, { DATABASE_SSL_MODE: 'require' as const }, { mode: 'require' }],
    [
      'a CA without a mode: verify-full',
      url,
      { DATABASE_SSL_CA_FILE: '/ca.pem' },
      { mode: 'verify-full', caFile: '/ca.pem' },
    ],
    [
      'require with a CA verifies the CA, as libpq does',
      url,
      { DATABASE_SSL_MODE: 'require' as const, DATABASE_SSL_CA_FILE: '/ca.pem' },
      { mode: 'verify-ca' },
    ],
    [
      'libpq parameters in DATABASE_URL',
      `${url}?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem`,
      none,
      { mode: 'verify-full', caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' },
    ],
    ["slonik's no-verify", `${url}?sslmode=no-verify`, none, { mode: 'require' }],
    [
      'the same thing said twice',
      `${url}?sslmode=verify-ca`,
      { DATABASE_SSL_MODE: 'verify-ca' as const },
      { mode: 'verify-ca' },
    ],
  ])('%s', (_, databaseUrl, settings, expected) => {
    expect(planDatabaseTls(databaseUrl, settings)).toMatchObject(expected);
  });

  it('takes the TLS parameters out of the URL and keeps the rest', () => {
    const plan = planDatabaseTls(`${url}?sslmode=verify-full&application_name=podium&sslrootcert=/ca.pem`, none);
    expect(plan.url).toBe(`${url}?application_name=podium`);
  });

  it.each([
    [
      'two modes',
      `${url}?sslmode=require`,
      { DATABASE_SSL_MODE: 'verify-full' as const },
      /sslmode=require and DATABASE_SSL_MODE=verify-full disagree/,
    ],
    [
      'two CAs',
      `${url}?sslrootcert=/a.pem`,
      { DATABASE_SSL_CA_FILE: '/b.pem' },
      /sslrootcert=\/a.pem and DATABASE_SSL_CA_FILE=\/b.pem disagree/,
    ],
    ['a certificate without its key', url, { DATABASE_SSL_CERT_FILE: '/c.pem' }, /set both or neither/],
    [
      'a mode libpq has and no driver here does',
      `${url}?sslmode=prefer`,
      none,
      /sslmode=prefer is not supported; use disable, require, verify-ca or verify-full/,
    ],
    [
      'disable with a certificate',
      url,
      { DATABASE_SSL_MODE: 'disable' as const, DATABASE_SSL_CA_FILE: '/ca.pem' },
      /disable with a certificate file/,
    ],
  ])('refuses %s, naming the settings', (_, databaseUrl, settings, message) => {
    expect(() => planDatabaseTls(databaseUrl, settings)).toThrow(message);
  });
});

describe('planTemporalTls: how to reach Temporal', () => {
  const plain = { TEMPORAL_TLS: false };
  it('is plain gRPC with no setting', () => {
    expect(planTemporalTls('temporal:7233', plain)).toEqual({ address: 'temporal:7233', tls: null });
  });

  it('is TLS when asked, or when a certificate, a CA, a server name or an API key implies it', () => {
    expect(planTemporalTls('t:7233', { TEMPORAL_TLS: true }).tls).toEqual({});
    expect(planTemporalTls('t:7233', { ...plain, TEMPORAL_TLS_CA_FILE: '/ca.pem' }).tls).toEqual({ caFile: '/ca.pem' });
    expect(planTemporalTls('t:7233', { ...plain, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).tls).toEqual({
      serverName: 'temporal.internal',
    });
    expect(planTemporalTls('ns.acct.tmprl.cloud:7233', { ...plain, TEMPORAL_API_KEY: 'key' })).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      tls: {},
      apiKey: 'key',
    });
    expect(
      planTemporalTls('t:7233', { ...plain, TEMPORAL_TLS_CERT_FILE: '/c.pem', TEMPORAL_TLS_KEY_FILE: '/k.pem' }).tls,
    ).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
  });

  it('names the namespace in a header wherever an API key is sent (Temporal Cloud routes by it)', () => {
    expect(
      temporalConnection('us-east-1.aws.api.temporal.io:7233', {
        ...plain,
        TEMPORAL_API_KEY: 'key',
        TEMPORAL_NAMESPACE: 'podium.a1b2c',
      }),
    ).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'key',
      metadata: { 'temporal-namespace': 'podium.a1b2c' },
    });
    expect(temporalConnection('t:7233', { ...plain, TEMPORAL_NAMESPACE: 'default' })).toEqual({ address: 't:7233' });
  });

  it('refuses a client certificate without its key', () => {
    expect(() => planTemporalTls('t:7233', { ...plain, TEMPORAL_TLS_CERT_FILE: '/c.pem' })).toThrow(
      'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together: set both or neither',
    );
  });
});
