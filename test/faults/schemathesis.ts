import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensurePythonTool, pythonToolDir, schemathesis } from '../../infra/python-tools';
import { sql } from 'slonik';
import { startTestStack } from '../support/test-stack';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';
import type { FaultServices } from './fault-services';

const st = path.resolve(pythonToolDir(schemathesis), 'bin', 'st');

export type FuzzFigures = {
  role: string;
  operations: number;
  cases: number;
  serverErrors: number;
  undocumented: number;
  otherFailures: number;
};

/** The numbers of a run, from schemathesis's summary. */
export function readSummary(role: string, output: string): FuzzFigures {
  const count = (pattern: RegExp) => Number(output.match(pattern)?.[1] ?? 0);
  const serverErrors = count(/Server error:\s*(\d+)/);
  const undocumented = count(/Undocumented (?:HTTP )?status code:\s*(\d+)/);
  const allFailures = count(/(\d+) unique failures?/);
  return {
    role,
    operations: count(/Tested:\s*(\d+)/),
    cases: count(/(\d+) generated/),
    serverErrors,
    undocumented,
    otherFailures: Math.max(0, allFailures - serverErrors - undocumented),
  };
}

function runSt(args: string[], log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(st, args, { env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_HOOKS: '' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', () => {
      // What went wrong (FAILURES, ERRORS) and the summary; not the progress lines.
      const firstReport = [output.indexOf('FAILURES'), output.indexOf('ERRORS'), output.lastIndexOf('SUMMARY')].filter(
        (i) => i >= 0,
      );
      const report = output.slice(Math.min(...firstReport));
      for (const line of report.split('\n').slice(0, 200)) if (line.trim()) log(`  ${line}`);
      resolve(output);
    });
  });
}

/**
 * schemathesis against the API's own OpenAPI document, as an anonymous session, a user and an
 * admin (each with a bearer token), with its stateful phase following the document's links.
 * The `fail` model is taken out of the catalog first (its failures are the model's, on purpose).
 * Sign-out and token refresh are left out: fuzzing them would end the very session the run
 * uses, and the rest would see only 401s. Counts server errors and statuses the document does
 * not list.
 */
export async function runSchemathesis(
  services: FaultServices,
  options: { short: boolean; log: (line: string) => void },
): Promise<FuzzFigures[]> {
  ensurePythonTool(schemathesis, options.log);
  const stack = await startTestStack({ services: { ...services, chromium: '' }, worker: false });
  const worker = await startWorkerProcess(workerTargetOf(stack));
  try {
    // The demo `fail` model fails every request by design, and the OIP front door answers its
    // failure with a 5xx (502: the model, not Podium, failed): fuzz a catalog without it.
    await stack.db.query(sql.unsafe`UPDATE models SET deleted_at = clock_timestamp() WHERE id = 'fail'`);
    const user = await stack.api.signUp({ username: `fuzz${Date.now()}` });
    const admin = await stack.signUpAdmin('fuzzadmin');
    // As admin the fuzz registers models of its own, whose made-up commands cannot start; the
    // front door answers an infer of one with the model's failure, a 5xx by design (as for
    // `fail`). The other roles still fuzz the infer, on the catalog's models.
    const roles = [
      { role: 'anonymous', token: await stack.api.anonymousToken(), exclude: [] },
      { role: 'user', token: user.accessToken, exclude: [] },
      { role: 'admin', token: admin.token, exclude: ['/v2/models/{name}/infer'] },
    ];
    const figures: FuzzFigures[] = [];
    for (const { role, token, exclude } of roles) {
      options.log(`schemathesis as ${role}`);
      const output = await runSt(
        [
          'run',
          `${stack.baseUrl}/api/openapi.json`,
          '--header',
          `Authorization: Bearer ${token}`,
          '--checks',
          'not_a_server_error,status_code_conformance',
          '--exclude-path',
          '/api/auth/logout',
          '--exclude-path',
          '/api/auth/refresh',
          ...exclude.flatMap((excluded) => ['--exclude-path', excluded]),
          '--max-examples',
          options.short ? '20' : '150',
          // One worker: CPython 3.11's ast module keeps one recursion count per interpreter,
          // and two threads parsing at once (hypothesis does) can trip "SystemError: AST
          // constructor recursion depth mismatch" (cpython#106905). It ended a fault run here.
          '--workers',
          '1',
          '--seed',
          '42',
          '--continue-on-failure',
          '--no-color',
        ],
        options.log,
      );
      figures.push(readSummary(role, output));
    }
    return figures;
  } finally {
    await stopWorkerProcess(worker);
    await stack.stop();
  }
}
