/**
 * What the `local` runtime may run (issue 31). Registering a model picks a command that runs on
 * the worker host as the worker's user, so it is confined to what the operator put there:
 * - `node` runs a script inside the models root, and nothing else (no `-e`, no `--require`);
 * - any other command is a file inside the models root, or one the operator lists in
 *   LOCAL_MODEL_COMMANDS (configuration, never the API);
 * - the working directory is inside the models root, and no argument names a path outside the
 *   working directory (absolute, or through `..`);
 * - the environment sets nothing that changes how a program loads (LD_PRELOAD, NODE_OPTIONS,
 *   PATH, PYTHONPATH and the like).
 * A listed interpreter (`python3`, say) runs whatever its arguments say: list programs, not shells.
 */
export type LocalCommandPolicy = {
  /** Where model code lives, relative to the repository root (LOCAL_MODELS_ROOT). */
  modelsRoot: string;
  /** Commands allowed besides `node` and files in the models root, as written in `localCommand` (LOCAL_MODEL_COMMANDS). */
  commands: readonly string[];
};

export type LocalLaunch = { localCommand: readonly string[]; workingDir: string | null; env: Record<string, unknown> };

export type LaunchProblem = { field: 'localCommand' | 'workingDir' | 'env'; message: string };

/** Names that make a program load other code, or that the runtime sets itself. */
const loaderEnvironment = [
  /^LD_/,
  /^DYLD_/,
  /^NODE_(OPTIONS|PATH|EXTRA_CA_CERTS|REPL_EXTERNAL_MODULE)$/,
  /^PYTHON(PATH|HOME|STARTUP|USERBASE|INSPECT|BREAKPOINT|EXECUTABLE|PLATLIBDIR|SAFEPATH)$/,
  /^(PATH|HOME|SHELL|IFS|ENV|BASH_ENV|SHELLOPTS|BASHOPTS|PS4|CDPATH)$/,
  /^BASH_FUNC_/,
  /^(PERL5OPT|PERL5LIB|PERLLIB|RUBYOPT|RUBYLIB|GCONV_PATH|GLIBC_TUNABLES|LOCPATH|NLSPATH|HOSTALIASES|RESOLV_HOST_CONF)$/,
  /^MALLOC_/,
  /^PODIUM_EXIT_WITH_PARENT$/,
];

export const isLoaderEnvironmentName = (name: string) => loaderEnvironment.some((pattern) => pattern.test(name));

/**
 * A relative path's segments once `.` and `..` are applied from `base` (segments too), or null
 * when it is absolute or climbs above the repository root.
 */
function resolveSegments(base: readonly string[], relative: string): string[] | null {
  if (relative.startsWith('/')) return null;
  const segments = [...base];
  for (const part of relative.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) return null;
      segments.pop();
    } else segments.push(part);
  }
  return segments;
}

const isInside = (segments: readonly string[] | null, root: readonly string[]) =>
  segments !== null && segments.length > root.length && root.every((part, index) => segments[index] === part);

const isInsideOrAt = (segments: readonly string[] | null, root: readonly string[]) =>
  segments !== null && segments.length >= root.length && root.every((part, index) => segments[index] === part);

/** An argument that names a path outside the working directory: absolute, or with a `..` segment (also as `--opt=value`). */
function leavesWorkingDir(argument: string): boolean {
  return [argument, argument.slice(argument.indexOf('=') + 1)].some(
    (value) => value.startsWith('/') || value.split('/').includes('..'),
  );
}

/** The problems as one sentence, as the runtime's error and the API's 400 say it. */
export const launchRefusal = (problems: readonly LaunchProblem[]) =>
  `the local runtime does not run this model: ${problems.map((problem) => `${problem.field} ${problem.message}`).join('; ')}`;

/** Every way this launch breaks the policy, each naming its field; empty when it may run. */
export function localLaunchProblems(launch: LocalLaunch, policy: LocalCommandPolicy): LaunchProblem[] {
  const problems: LaunchProblem[] = [];
  const root = resolveSegments([], policy.modelsRoot) ?? [];
  const rootName = root.join('/') || '.';
  const workingDir = launch.workingDir === null ? [] : resolveSegments([], launch.workingDir);
  if (launch.workingDir !== null && !isInsideOrAt(workingDir, root)) {
    problems.push({ field: 'workingDir', message: `must be inside the models root (${rootName})` });
  }
  const [command = '', ...args] = launch.localCommand;
  const listed = policy.commands.includes(command);
  if (command === 'node') {
    const script = args[0];
    if (script === undefined || script.startsWith('-') || !isInside(resolveSegments(workingDir ?? [], script), root)) {
      problems.push({
        field: 'localCommand',
        message: `node runs a script inside the models root (${rootName}), with no options before it`,
      });
    }
  } else if (!listed && !(command.includes('/') && isInside(resolveSegments([], command), root))) {
    problems.push({
      field: 'localCommand',
      message: `${JSON.stringify(command)} is neither node, a file inside the models root (${rootName}), nor a command the operator allows (LOCAL_MODEL_COMMANDS)`,
    });
  }
  const outside = args.filter(leavesWorkingDir);
  if (outside.length > 0) {
    problems.push({
      field: 'localCommand',
      message: `arguments name paths outside the working directory: ${outside.map((a) => JSON.stringify(a)).join(', ')}`,
    });
  }
  const loaders = Object.keys(launch.env).filter(isLoaderEnvironmentName);
  if (loaders.length > 0) {
    problems.push({
      field: 'env',
      message: `sets what changes how programs load, which a model may not: ${loaders.join(', ')}`,
    });
  }
  return problems;
}
