import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultServices } from './fault-services';

/** What a fault may touch: the services, and the worker processes (which it may replace). */
export type FaultContext = {
  services: FaultServices;
  workers: ChildProcess[];
  startWorker: () => Promise<ChildProcess>;
  log: (line: string) => void;
};

export type Scenario = {
  name: string;
  /** The model's time per request: long enough that faults land mid-inference. */
  delayMs: number;
  inject: (context: FaultContext) => Promise<void>;
};

/** The suite's faults; `short` shrinks each (as `npm run faults -- --short`). */
export function scenarios(short: boolean): Scenario[] {
  const kills = short ? 5 : 100;
  const freezeMs = short ? 10_000 : 40_000;
  const downMs = short ? 5_000 : 15_000;
  return [
    {
      name: `worker SIGKILL ×${kills}`,
      delayMs: 200,
      async inject({ workers, startWorker, log }) {
        for (let kill = 1; kill <= kills; kill++) {
          await sleep(500 + Math.random() * 1_000);
          const victim = kill % workers.length;
          workers[victim]!.kill('SIGKILL');
          workers[victim] = await startWorker();
          if (kill % 10 === 0) log(`${kill} workers killed`);
        }
      },
    },
    {
      name: `PostgreSQL frozen ${freezeMs / 1000} s`,
      delayMs: 200,
      async inject({ services }) {
        await sleep(3_000);
        await services.freezePostgres();
        await sleep(freezeMs);
        services.thawPostgres();
        await sleep(5_000);
      },
    },
    {
      name: `PostgreSQL restarted (${downMs / 1000} s down)`,
      delayMs: 200,
      async inject({ services }) {
        await sleep(3_000);
        await services.restartPostgres(downMs);
        await sleep(5_000);
      },
    },
    {
      name: `Temporal killed, restarted (${downMs / 1000} s down)`,
      delayMs: 200,
      async inject({ services }) {
        await sleep(3_000);
        await services.killTemporal(downMs);
        await sleep(5_000);
      },
    },
    {
      name: `model process SIGKILL ×${short ? 3 : 10}`,
      delayMs: 500,
      async inject() {
        for (let kill = 0; kill < (short ? 3 : 10); kill++) {
          await sleep(2_000);
          const models = modelServerPids();
          if (models.length > 0) process.kill(models[Math.floor(Math.random() * models.length)]!, 'SIGKILL');
        }
        await sleep(3_000);
      },
    },
  ];
}

/**
 * The faults of a multi-service Temporal cluster (`--temporal cluster`): a crash of one history
 * host (the other takes its shards), of matching and of the frontend, each started again after a
 * while down; then a rolling restart, each process stopped gracefully and started in turn.
 */
export function clusterScenarios(short: boolean): Scenario[] {
  const downMs = short ? 5_000 : 15_000;
  // Long enough that membership notices the host gone and the other acquires its shards.
  const historyDownMs = short ? 15_000 : 30_000;
  const crash = (name: string, down: number): Scenario => ({
    name: `Temporal ${name} SIGKILL, restarted (${down / 1000} s down)`,
    delayMs: 200,
    async inject({ services, log }) {
      await sleep(3_000);
      await services.restartClusterProcess(name, 'SIGKILL', down);
      log(`${name} started again`);
      await sleep(5_000);
    },
  });
  return [
    crash('history-1', historyDownMs),
    crash('matching', downMs),
    crash('frontend', downMs),
    {
      name: 'Temporal rolling restart (SIGTERM, each in turn)',
      delayMs: 200,
      async inject({ services, log }) {
        for (const name of ['history-1', 'history-2', 'matching', 'frontend', 'worker']) {
          await sleep(3_000);
          await services.restartClusterProcess(name, 'SIGTERM', 0);
          log(`${name} restarted`);
        }
        await sleep(5_000);
      },
    },
  ];
}

/** The local runtime's model server processes on this machine. */
export function modelServerPids(): number[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  return lines
    .filter((line) => /models\/[\w-]+\/server\.ts/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}
