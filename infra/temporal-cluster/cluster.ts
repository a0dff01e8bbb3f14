import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { findFreeLowPorts } from '../../lib/ports';
import { modelNameKey } from '../../workflows/search-attributes';
import { ensureSearchAttributes } from '../search-attributes';
import { ensureTemporalServer } from './build';
import {
  clusterDynamicConfig,
  processConfig,
  type ClusterDatabase,
  type ServicePorts,
  type TemporalService,
} from './config';
import type { TemporalServerBinaries } from './versions';

type Log = (line: string) => void;

/** One process of the cluster, which a fault test may kill and start again. */
export type ClusterProcess = {
  name: string;
  service: TemporalService;
  readonly running: boolean;
  /** The running process's id (null when it is not running). */
  readonly pid: number | null;
  /** Its Prometheus metrics (the `action` counter on the frontend, `state_transition_count` on history). */
  metricsUrl: string;
  /** SIGKILL (a crash) or SIGTERM (a stop); resolves once it has exited. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  start(): Promise<void>;
};

export type TemporalCluster = {
  /** What Podium's TEMPORAL_ADDRESS names: the frontend. */
  address: string;
  processes: Record<string, ClusterProcess>;
  stop(): Promise<void>;
};

const alreadyExists = 6; // gRPC status ALREADY_EXISTS

/** The databases of the cluster, made and brought to the module's newest schema version (idempotent). */
async function prepareDatabases(binaries: TemporalServerBinaries, database: ClusterDatabase, log: Log) {
  const admin = new pg.Client({
    host: database.host,
    port: database.port,
    user: database.user,
    password: database.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    for (const [name, schema] of [
      [database.persistence, 'temporal'],
      [database.visibility, 'visibility'],
    ] as const) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      const fresh = rowCount === 0;
      if (fresh) await admin.query(`CREATE DATABASE "${name}"`);
      const tool = (...args: string[]) =>
        runTool(binaries.sqlTool, [
          '--plugin',
          'postgres12',
          '--ep',
          database.host,
          '-p',
          String(database.port),
          '-u',
          database.user,
          '--pw',
          database.password,
          '--db',
          name,
          ...args,
        ]);
      if (fresh) await tool('setup-schema', '-v', '0.0');
      await tool('update-schema', '-d', path.join(binaries.postgresSchemas, schema, 'versioned'));
      log(`  ${name}: ${schema} schema ${fresh ? 'created' : 'up to date'}`);
    }
  } finally {
    await admin.end();
  }
}

function runTool(binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`temporal-sql-tool ${args.at(-3)} failed:\n${output.slice(-2000)}`)),
    );
  });
}

/** A service process: started again on `start()` with the same config, so with the same ports. */
function clusterProcess(
  name: string,
  service: TemporalService,
  binary: string,
  configFile: string,
  metricsPort: number,
  log: Log,
) {
  let child: ChildProcess | null = null;
  const lastLines: string[] = [];
  const keep = (chunk: Buffer) => {
    lastLines.push(chunk.toString());
    if (lastLines.length > 30) lastLines.shift();
  };
  const process_: ClusterProcess = {
    name,
    service,
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return process_.running ? child!.pid! : null;
    },
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async start() {
      if (process_.running) return;
      const started = spawn(binary, ['--config-file', configFile, '--allow-no-auth', 'start', '--service', service], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: Ctrl-C reaches the script, which stops it
      });
      started.stdout!.on('data', keep);
      started.stderr!.on('data', keep);
      started.once('exit', (code, signal) => {
        if (child === started && !stopping.has(started)) {
          log(`  ${name} exited (${code ?? signal}): ${lastLines.join('').slice(-600)}`);
        }
      });
      child = started;
    },
    async kill(signal = 'SIGKILL') {
      const running = child;
      if (!running || !process_.running) return;
      stopping.add(running);
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return process_;
}
const stopping = new WeakSet<ChildProcess>();

/** Waits until a process has written the cluster's metadata into the persistence database. */
async function waitForClusterMetadata(database: ClusterDatabase, timeoutMs: number) {
  const client = new pg.Client({
    host: database.host,
    port: database.port,
    user: database.user,
    password: database.password,
    database: database.persistence,
  });
  await client.connect();
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
      if (((await client.query('SELECT 1 FROM cluster_metadata_info LIMIT 1')).rowCount ?? 0) > 0) return;
    }
    throw new Error(`no Temporal process wrote the cluster's metadata within ${timeoutMs} ms`);
  } finally {
    await client.end();
  }
}

/** Waits until the frontend answers and the namespace, with Podium's search attributes, is usable. */
async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  processes: ClusterProcess[],
  log: Log,
) {
  const deadline = Date.now() + timeoutMs;
  let registered = false;
  let lastError: unknown;
  while (Date.now() < deadline) {
    // A process that exited while the cluster came up is started again, as a supervisor would.
    for (const process_ of processes) if (!process_.running) await process_.start();
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        if (!registered) {
          await connection.workflowService
            .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
            .catch((error: unknown) => {
              if (!isGrpcServiceError(error) || error.code !== alreadyExists) throw error;
            });
          registered = true;
          log(`  namespace ${namespace} registered`);
        }
        const client = new Client({ connection, namespace });
        await ensureSearchAttributes(client, namespace);
        // The frontend knows the namespace and the attributes once a list query by one of them works.
        await connection.workflowService.listWorkflowExecutions({
          namespace,
          pageSize: 1,
          query: `${modelNameKey.name} = 'ready-check'`,
        });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await sleep(500);
    }
  }
  throw new Error(`the Temporal cluster was not ready on ${address} within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * A Temporal cluster as production runs one: frontend, matching, worker and two history
 * processes, each its own `temporal-server`, on PostgreSQL persistence and SQL visibility in
 * databases of their own, 16 history shards shared by the two history hosts. Podium needs
 * nothing but its address.
 */
export async function startTemporalCluster(options: {
  database: ClusterDatabase;
  /** Where the processes' config files go. */
  dir: string;
  namespace?: string;
  /** The frontend's port (a free one unless said; below 32768, as every port of the cluster). */
  frontendPort?: number;
  log?: Log;
}): Promise<TemporalCluster> {
  const log = options.log ?? console.log;
  const namespace = options.namespace ?? 'default';
  const binaries = await ensureTemporalServer(log);
  await prepareDatabases(binaries, options.database, log);
  await mkdir(options.dir, { recursive: true });
  const dynamicConfigFile = path.join(options.dir, 'dynamic-config.yaml');
  await writeFile(dynamicConfigFile, JSON.stringify(clusterDynamicConfig, null, 2));

  const free = await findFreeLowPorts(16);
  const port = () => free.shift()!;
  const frontend: ServicePorts = {
    grpc: options.frontendPort ?? port(),
    membership: port(),
    http: port(),
    metrics: port(),
  };
  const layout: [string, TemporalService, ServicePorts][] = [
    ['history-1', 'history', { grpc: port(), membership: port(), metrics: port() }],
    ['history-2', 'history', { grpc: port(), membership: port(), metrics: port() }],
    ['matching', 'matching', { grpc: port(), membership: port(), metrics: port() }],
    ['frontend', 'frontend', frontend],
    ['worker', 'worker', { grpc: port(), membership: port(), metrics: port() }],
  ];
  const processes: Record<string, ClusterProcess> = {};
  const services = Object.fromEntries(layout.map(([, service, ports]) => [service, ports])) as Record<
    TemporalService,
    ServicePorts
  >;
  for (const [name, service, ports] of layout) {
    const configFile = path.join(options.dir, `${name}.yaml`);
    const config = processConfig({ service, ports, services, database: options.database, dynamicConfigFile });
    await writeFile(configFile, JSON.stringify(config, null, 2));
    processes[name] = clusterProcess(name, service, binaries.server, configFile, ports.metrics!, log);
  }
  const stop = async () => {
    for (const name of ['worker', 'frontend', 'matching', 'history-2', 'history-1'])
      await processes[name]!.kill('SIGTERM');
  };
  try {
    // The first process writes the cluster's metadata; others started beside it race to write it
    // too, and the losers exit. So one first, then the rest once the metadata is there.
    await processes['history-1']!.start();
    await waitForClusterMetadata(options.database, 60_000);
    for (const process_ of Object.values(processes)) await process_.start();
    const address = `127.0.0.1:${frontend.grpc}`;
    await waitUntilReady(address, namespace, 120_000, Object.values(processes), log);
    return { address, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
