// The fault suite (`npm run faults`, `-- --short` for a quick pass, `-- --only <text>` for the
// faults whose name holds it, `-- --temporal cluster` for the multi-service Temporal cluster's
// own faults): each fault under 16 clients of load on real services, then the invariants that
// must hold whatever happened. Prints a table and writes it to .data/faults/.
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { stopWorkerProcess, startWorkerProcess, workerTargetOf } from '../support/worker-process';
import { echoInput, startTestStack } from '../support/test-stack';
import { startFaultServices, type FaultServices, type FaultTemporal } from './fault-services';
import { endingsOf } from '../support/request-endings';
import { failureDetails, orphansOf } from './invariants';
import { mergeAnswers, startLoad, startProbe } from './load';
import { runSchemathesis, type FuzzFigures } from './schemathesis';
import { clusterScenarios, modelServerPids, scenarios, type Scenario } from './scenarios';
import { faultTable, fuzzTable, type FaultFigures } from './tables';

const clients = 16;
const workerCount = 2;
const log = (line: string) => console.log(`[faults] ${line}`);

/** Every worker process the suite started: none may outlive it, whatever ends it. */
const startedWorkers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const worker of startedWorkers) if (worker.exitCode === null) worker.kill('SIGKILL');
});

async function runScenario(services: FaultServices, scenario: Scenario): Promise<FaultFigures> {
  const before = new Set(modelServerPids());
  const stack = await startTestStack({
    services: { ...services, chromium: '' },
    worker: false,
    env: { LOG_LEVEL: 'silent' },
  });
  const target = workerTargetOf(stack);
  const startWorker = async () => {
    const worker = await startWorkerProcess(target);
    startedWorkers.add(worker);
    return worker;
  };
  const workers: ChildProcess[] = [];
  try {
    for (let n = 0; n < workerCount; n++) workers.push(await startWorker());
    // Echo may run two instances of four slots: a fault meets work on more than one.
    await stack.db.query(sql.unsafe`UPDATE models SET max_instances = 2, max_concurrency = 4 WHERE id = 'echo'`);
    const token = await stack.api.anonymousToken();
    await stack.api.waitUntilFinal(
      token,
      (await stack.api.submit(token, { model: 'echo', input: echoInput })).body.id,
      60_000,
    );

    log(`${scenario.name}: load on`);
    const started = Date.now();
    const load = await startLoad(stack.api, { clients, delayMs: scenario.delayMs });
    const probe = startProbe(stack.api, token);
    await scenario.inject({ services, workers, startWorker, log });
    const { accepted, answers, submitToEndMs } = await load.stop();
    const probed = await probe.stop();
    log(
      `${scenario.name}: load off after ${Math.round((Date.now() - started) / 1000)} s; following ${accepted.length} requests to their end`,
    );
    const endings = await endingsOf(stack.db, accepted, 180_000);
    const orphans = await orphansOf(stack.db, 30_000, before);
    const failures = await failureDetails(stack.db, accepted);
    return {
      scenario: scenario.name,
      accepted: accepted.length,
      endings,
      orphans,
      failures,
      answers: mergeAnswers(answers, probed),
      submitToEndMs,
    };
  } finally {
    services.thawPostgres();
    for (const worker of workers) await stopWorkerProcess(worker).catch(() => undefined);
    await stack.stop().catch((error: Error) => log(`stack stop: ${error.message}`));
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      only: { type: 'string' },
      temporal: { type: 'string', default: 'dev' },
    },
  });
  if (values.temporal !== 'dev' && values.temporal !== 'cluster') {
    throw new Error(`--temporal is dev (the default) or cluster, not ${values.temporal}`);
  }
  const temporal: FaultTemporal = values.temporal;
  const chosen = (temporal === 'cluster' ? clusterScenarios : scenarios)(values.short).filter(
    (s) => !values.only || s.name.toLowerCase().includes(values.only.toLowerCase()),
  );
  // The API fuzzing does not depend on which Temporal runs: it runs with the dev server's suite.
  const fuzz = temporal === 'dev' && (!values.only || 'schemathesis'.includes(values.only.toLowerCase()));
  log(`starting PostgreSQL and Temporal (${temporal === 'cluster' ? 'the multi-service cluster' : 'the dev server'})`);
  const services = await startFaultServices({ temporal });
  const figures: FaultFigures[] = [];
  let fuzzed: FuzzFigures[] = [];
  try {
    for (const scenario of chosen) figures.push(await runScenario(services, scenario));
    if (fuzz) fuzzed = await runSchemathesis(services, { short: values.short, log });
  } finally {
    await services.stop();
  }
  const report = [
    `# Fault suite, ${new Date().toISOString()}${values.short ? ' (short)' : ''}${temporal === 'cluster' ? ', on the multi-service Temporal cluster' : ''}`,
    '',
    faultTable(figures),
    ...(fuzzed.length ? ['', fuzzTable(fuzzed)] : []),
  ].join('\n');
  console.log(`\n${report}\n`);
  const dir = path.resolve('.data/faults');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `faults-${new Date().toISOString().replaceAll(':', '-')}.md`);
  await writeFile(file, `${report}\n`);
  log(`written to ${path.relative(process.cwd(), file)}`);
  const broken = figures.some(
    (f) =>
      f.endings.unended ||
      f.endings.failed.length ||
      f.endings.statsNotOnce ||
      f.endings.heldSlots ||
      f.orphans.deadRows ||
      f.orphans.strayProcesses ||
      f.answers.wrong.length,
  );
  const fuzzBroken = fuzzed.some((f) => f.serverErrors || f.undocumented);
  process.exit(broken || fuzzBroken ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
