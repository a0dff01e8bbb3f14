import { localLaunchProblems, type LocalLaunch } from '../../domain/local-command-policy';

const policy = { modelsRoot: 'models', commands: ['.tools/mlserver-1.7.1/bin/mlserver'] };
const launch = (localCommand: string[], more: Partial<LocalLaunch> = {}): LocalLaunch => ({
  localCommand,
  workingDir: null,
  env: {},
  ...more,
});
const problems = (value: LocalLaunch) =>
  localLaunchProblems(value, policy).map(({ field, message }) => `${field}: ${message}`);

describe('what the local runtime runs', () => {
  it.each([
    ['a Node script in the models root', launch(['node', 'models/echo/server.ts'])],
    [
      'a Node script relative to a working directory in the root',
      launch(['node', 'server.ts'], { workingDir: 'models/echo' }),
    ],
    [
      'the pinned MLServer in a model directory',
      launch(['.tools/mlserver-1.7.1/bin/mlserver', 'start', '.'], { workingDir: 'models/python-example' }),
    ],
    ['a program shipped in the models root, with options', launch(['models/bin/serve', '--port=8080', '--name', 'x'])],
    [
      'an ordinary environment',
      launch(['node', 'models/echo/server.ts'], { env: { MODEL_SIZE: 'small', HF_HOME: 'cache' } }),
    ],
  ])('runs %s', (_name, value) => {
    expect(problems(value)).toEqual([]);
  });

  it.each([
    [
      'a shell',
      launch(['sh', '-c', 'id']),
      'localCommand: "sh" is neither node, a file inside the models root (models), nor a command the operator allows (LOCAL_MODEL_COMMANDS)',
    ],
    [
      'node with code of its own',
      launch(['node', '-e', 'process.exit()']),
      'localCommand: node runs a script inside the models root (models), with no options before it',
    ],
    [
      'node with a preloaded module',
      launch(['node', '--require', 'models/x.js', 'models/echo/server.ts']),
      'localCommand: node runs a script inside the models root (models), with no options before it',
    ],
    [
      'node with a script outside the root',
      launch(['node', 'infra/start.ts']),
      'localCommand: node runs a script inside the models root (models), with no options before it',
    ],
    [
      'a program that climbs out of the root',
      launch(['models/../infra/run']),
      'localCommand: "models/../infra/run" is neither node, a file inside the models root (models), nor a command the operator allows (LOCAL_MODEL_COMMANDS)',
    ],
    [
      'an absolute program',
      launch(['/bin/sh']),
      'localCommand: "/bin/sh" is neither node, a file inside the models root (models), nor a command the operator allows (LOCAL_MODEL_COMMANDS)',
    ],
    [
      'a working directory outside the root',
      launch(['node', 'server.ts'], { workingDir: '../elsewhere' }),
      'workingDir: must be inside the models root (models)',
    ],
  ])('refuses %s', (_name, value, problem) => {
    expect(problems(value)).toContain(problem);
  });

  it('refuses arguments that name paths outside the working directory, also as --option=value', () => {
    expect(
      problems(
        launch(['.tools/mlserver-1.7.1/bin/mlserver', 'start', '/etc', '--model-dir=../../secrets'], {
          workingDir: 'models/python-example',
        }),
      ),
    ).toEqual([
      'localCommand: arguments name paths outside the working directory: "/etc", "--model-dir=../../secrets"',
    ]);
  });

  it('refuses every variable that changes how a program loads, and names them all', () => {
    const env = {
      LD_PRELOAD: 'x.so',
      NODE_OPTIONS: '--require x',
      PATH: '/tmp',
      PYTHONPATH: 'x',
      BASH_ENV: 'x',
      PODIUM_EXIT_WITH_PARENT: '0',
      FINE: 'yes',
    };
    expect(problems(launch(['node', 'models/echo/server.ts'], { env }))).toEqual([
      'env: sets what changes how programs load, which a model may not: LD_PRELOAD, NODE_OPTIONS, PATH, PYTHONPATH, BASH_ENV, PODIUM_EXIT_WITH_PARENT',
    ]);
  });

  it('runs the commands the operator lists, as they are written', () => {
    expect(
      localLaunchProblems(launch(['python3', 'serve.py'], { workingDir: 'models/py' }), {
        modelsRoot: 'models',
        commands: ['python3'],
      }),
    ).toEqual([]);
  });
});
