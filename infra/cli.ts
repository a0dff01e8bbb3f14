// `npm run podium -- <command>`: operations where a terminal is handier than the API.
// Uses DATABASE_URL, else the embedded PostgreSQL of `npm start` (started for the command if
// it is not running); `models` also tells running pools through Temporal (TEMPORAL_ADDRESS,
// else `npm start`'s dev server) when it can reach it.
import { Client, Connection } from '@temporalio/client';
import { parseConfig, type PodiumConfig } from '../domain/config';
import { buildInfo } from '../lib/build-info';
import { withDatabase } from './cli/database';
import { temporalConnection } from './connections';
import { modelsCommand, modelsUsage } from './cli/models-command';
import { statsCommand, statsUsage } from './cli/stats-command';
import { usersCommand, usersUsage } from './cli/users-command';

const usage = `usage: ${usersUsage}
       ${modelsUsage}
       ${statsUsage}
       podium version`;

/** A client for waking pools, or null when Temporal is not there (the change is saved anyway). */
async function connectTemporal(config: PodiumConfig): Promise<{ client: Client | null; close: () => Promise<void> }> {
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  try {
    const connection = await Connection.connect({ ...temporalConnection(address, config), connectTimeout: 2_000 });
    return {
      client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      close: () => connection.close(),
    };
  } catch {
    return { client: null, close: async () => undefined };
  }
}

async function main([group, ...args]: string[]): Promise<string> {
  if (group === 'version') {
    const { version, commit } = buildInfo();
    return `podium ${version} (commit ${commit})`;
  }
  const config = parseConfig(process.env);
  if (group === 'users') return withDatabase(config, (db) => usersCommand(db, args));
  if (group === 'stats') return withDatabase(config, (db) => statsCommand(db, args, (line) => console.error(line)));
  if (group === 'models') {
    return withDatabase(config, async (db) => {
      const temporal =
        args[0] === 'list' ? { client: null, close: async () => undefined } : await connectTemporal(config);
      try {
        return await modelsCommand(
          {
            db,
            temporal: temporal.client,
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            operator: process.env.USER ?? 'unknown',
          },
          args,
        );
      } finally {
        await temporal.close();
      }
    });
  }
  throw new Error(usage);
}

main(process.argv.slice(2)).then(
  (output) => {
    console.log(output);
    process.exit(0);
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
