import { modelPod } from '../../activities/runtime/kubernetes/pod-manifest';
import { modelSettings, type ModelSpec } from '../../domain/model-catalog';
import { containerLaunch, processLaunch, readinessPathOf, type RuntimeKind } from '../../domain/model-runtime';
import { echoModel } from '../support/models';

const ports = { http: 41001, grpc: 41002, metrics: 41003 };
const model = (settings: Partial<ModelSpec>): ModelSpec => ({ ...echoModel, servedModelName: 'shout', ...settings });

describe('processLaunch', () => {
  it('lets a Podium server pick its port and print it', () => {
    const launch = processLaunch(model({ runtime: 'podium-node' }), ports);
    expect(launch).toMatchObject({ argv: ['node', 'models/echo/server.ts'], port: 'stdout', watched: false });
    expect(launch.env).toMatchObject({ HOST: '127.0.0.1', PORT: '0', PODIUM_MODEL_NAME: 'shout' });
  });

  it('gives MLServer its three ports, its model name and uri, one process and no parallel workers', () => {
    const launch = processLaunch(
      model({
        runtime: 'mlserver',
        localCommand: ['mlserver', 'start', '.'],
        workingDir: 'models/python-example',
        storageUri: '/models/shout',
      }),
      ports,
    );
    expect(launch).toMatchObject({
      argv: ['mlserver', 'start', '.'],
      port: 41001,
      workingDir: 'models/python-example',
      watched: true,
    });
    expect(launch.env).toMatchObject({
      MLSERVER_HOST: '127.0.0.1',
      MLSERVER_HTTP_PORT: '41001',
      MLSERVER_GRPC_PORT: '41002',
      MLSERVER_METRICS_PORT: '41003',
      MLSERVER_PARALLEL_WORKERS: '0',
      MLSERVER_MODEL_NAME: 'shout',
      MLSERVER_MODEL_URI: '/models/shout',
    });
  });

  it.each<[RuntimeKind, Partial<ModelSpec>, string[]]>([
    [
      'kserve',
      { storageUri: '/mnt/models' },
      ['--http_port=41001', '--grpc_port=41002', '--model_name=shout', '--model_dir=/mnt/models'],
    ],
    [
      'triton',
      { storageUri: '/models' },
      ['--http-port=41001', '--grpc-port=41002', '--metrics-port=41003', '--model-repository=/models'],
    ],
    ['custom', { portArg: '--port' }, ['--port', '41001']],
  ])('appends what %s takes to the command', (runtime, settings, args) => {
    const launch = processLaunch(model({ runtime, localCommand: ['serve'], ...settings }), ports);
    expect(launch.argv).toEqual(['serve', ...args]);
    expect(launch.port).toBe(41001);
  });

  it('tells a custom server its port in the variable it names, PORT when it names none', () => {
    expect(processLaunch(model({ runtime: 'custom', portEnv: 'APP_PORT' }), ports).env).toMatchObject({
      APP_PORT: '41001',
    });
    expect(processLaunch(model({ runtime: 'custom' }), ports).env).toMatchObject({ PORT: '41001' });
    expect(processLaunch(model({ runtime: 'custom', portArg: '--port' }), ports).env).not.toHaveProperty('PORT');
  });

  it("keeps the model's own environment, under Podium's port and name settings", () => {
    const launch = processLaunch(
      model({ runtime: 'mlserver', env: { HF_HOME: '/cache', MLSERVER_HTTP_PORT: '1' } }),
      ports,
    );
    expect(launch.env).toMatchObject({ HF_HOME: '/cache', MLSERVER_HTTP_PORT: '41001' });
  });
});

describe('containerLaunch and the pod', () => {
  it("keeps the image's entrypoint and appends the preset's arguments to containerArgs", () => {
    const launch = containerLaunch(
      model({ runtime: 'kserve', containerArgs: ['-m', 'sklearnserver'], storageUri: 'pvc://models/iris' }),
    );
    expect(launch.command).toBeUndefined();
    expect(launch.args).toEqual([
      '-m',
      'sklearnserver',
      '--http_port=8080',
      '--grpc_port=8081',
      '--model_name=shout',
      '--model_dir=pvc://models/iris',
    ]);
    expect(launch.ports).toEqual([
      { name: 'http', containerPort: 8080 },
      { name: 'grpc', containerPort: 8081 },
    ]);
  });

  it('builds an MLServer pod: command, environment, ports and a probe on the model', () => {
    const mlserver = model({
      runtime: 'mlserver',
      containerImage: 'registry.example/shout:1',
      containerCommand: ['mlserver', 'start', '/opt/model'],
      containerEnv: { LOG_LEVEL: 'debug' },
      containerPort: 9000,
    });
    const container = modelPod({ instanceId: 'i-1', model: mlserver, annotations: {}, startupTimeoutMs: 1 }).spec!
      .containers[0]!;
    expect(container.command).toEqual(['mlserver', 'start', '/opt/model']);
    expect(container.args).toBeUndefined();
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 9000 },
      { name: 'grpc', containerPort: 9001 },
      { name: 'metrics', containerPort: 9002 },
    ]);
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'MLSERVER_HOST', value: '0.0.0.0' },
        { name: 'MLSERVER_HTTP_PORT', value: '9000' },
        { name: 'MLSERVER_PARALLEL_WORKERS', value: '0' },
        { name: 'MLSERVER_MODEL_NAME', value: 'shout' },
      ]),
    );
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/v2/models/shout/ready', port: 'http' });
  });

  it('gives a Podium server HOST and PORT, as before', () => {
    const container = modelPod({ instanceId: 'i-1', model: echoModel, annotations: {}, startupTimeoutMs: 1 }).spec!
      .containers[0]!;
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'HOST', value: '0.0.0.0' },
        { name: 'PORT', value: '8080' },
      ]),
    );
  });
});

describe('readinessPathOf', () => {
  it('asks whether the model is loaded unless told otherwise', () => {
    expect(readinessPathOf({ readinessPath: null, servedModelName: 'shout' })).toBe('/v2/models/shout/ready');
    expect(readinessPathOf({ readinessPath: '/healthz', servedModelName: 'shout' })).toBe('/healthz');
    expect(readinessPathOf({ readinessPath: '/v1/models/{name}', servedModelName: 'a.b' })).toBe('/v1/models/a.b');
  });
});

describe('modelSettings', () => {
  const minimal = { displayName: 'Shout', localCommand: ['mlserver', 'start', '.'], containerImage: 'shout:1' };

  it('defaults to a Podium server with no extra environment', () => {
    expect(modelSettings.parse(minimal)).toMatchObject({ runtime: 'podium-node', env: {}, containerEnv: {} });
  });

  it.each([
    [{ runtime: 'mlserver', portEnv: 'PORT' }, 'portEnv'],
    [{ runtime: 'triton', portArg: '--port' }, 'portArg'],
    [{ runtime: 'tgi' }, 'runtime'],
    [{ env: { 'NOT A NAME': 'x' } }, 'env'],
    [{ readinessPath: 'ready' }, 'readinessPath'],
    [{ runtime: 'custom', portArg: 'port' }, 'portArg'],
  ])('refuses %j, naming %s', (settings, field) => {
    const result = modelSettings.safeParse({ ...minimal, ...settings });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path[0])).toContain(field);
  });
});
