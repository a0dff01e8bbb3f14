import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePythonTool, pythonClientTests } from '../../infra/python-tools';
import { projectRoot } from '../../lib/project-root';
import { sql } from 'slonik';
import { z } from 'zod';
import { useTestStack } from '../support/test-stack';

const keyRow = z.object({ idempotency_key: z.string() });

const run = promisify(execFile);
const clientDir = path.join(projectRoot, 'clients/python');
let venv: string;

const stack = useTestStack();
beforeAll(() => {
  venv = ensurePythonTool(pythonClientTests, () => undefined); // once per machine: PyPI, pinned, into .tools/
}, 300_000);

describe('the Python client (clients/python)', () => {
  it('passes its pytest suite against a live Podium', async () => {
    // The tests that inject a 503 on submit use this key (and it + "-aio"): read back below.
    const key503 = `py-503-${randomUUID()}`;
    const outcome = await run(
      path.join(venv, 'bin', 'python'),
      ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join(clientDir, 'tests')],
      {
        env: {
          ...process.env,
          PODIUM_URL: stack.baseUrl,
          PYTHONPATH: path.join(clientDir, 'src'),
          PODIUM_503_KEY: key503,
        },
        timeout: 280_000,
      },
    ).catch((failed: { stdout?: string; stderr?: string }) => ({
      failed,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    }));
    // pytest's own report is the failure message: which test, and why.
    expect({
      failed: 'failed' in outcome,
      report: 'failed' in outcome ? `${outcome.stdout}\n${outcome.stderr}` : '',
    }).toEqual({
      failed: false,
      report: '',
    });
    // Every test ran (33: the datatypes one per datatype), none skipped.
    expect(outcome.stdout).toMatch(/^(\d+) passed in /m);
    expect(Number(/^(\d+) passed in /m.exec(outcome.stdout)![1])).toBeGreaterThanOrEqual(33);
    // A submission answered 503 and sent again with its key made one request, sync and asyncio.
    const made = await stack.db.any(
      sql.type(
        keyRow,
      )`SELECT idempotency_key FROM work_requests WHERE idempotency_key IN (${key503}, ${`${key503}-aio`})`,
    );
    expect(made.map((row) => row.idempotency_key).sort()).toEqual([key503, `${key503}-aio`]);
  }, 300_000);

  it('is formatted and lint-clean (ruff, as pyproject.toml sets it)', async () => {
    const ruff = path.join(venv, 'bin', 'ruff');
    const checked = [clientDir, path.join(projectRoot, 'test/bench/python_client_bench.py')];
    // What ruff says is the failure message.
    const ruffSays = (args: string[]) =>
      run(ruff, args, { cwd: clientDir }).then(
        () => '',
        (failed: { stdout?: string; stderr?: string }) =>
          `ruff ${args[0]} failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
      );
    expect(await ruffSays(['format', '--check', ...checked])).toBe('');
    expect(await ruffSays(['check', ...checked])).toBe('');
  });

  it('installs with pip install ./clients/python, and imports', async () => {
    const target = await mkdtemp(path.join(tmpdir(), 'podium-client-'));
    try {
      await run(
        path.join(venv, 'bin', 'pip'),
        ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', target, clientDir],
        {
          timeout: 240_000,
        },
      );
      const { stdout } = await run(
        path.join(venv, 'bin', 'python'),
        ['-c', 'import podium; print(podium.__version__, podium.Podium.__name__)'],
        {
          env: { ...process.env, PYTHONPATH: target },
        },
      );
      expect(stdout.trim()).toBe('0.1.0 Podium');
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  }, 300_000);
});
