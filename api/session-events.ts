import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Client } from 'pg';
import { z } from 'zod';
import { sessionEventsChannel } from '../db/session-events';

const sessionEvent = z.object({ schema: z.string(), sessionId: z.uuid().optional(), userId: z.uuid().optional() });
export type SessionEvent = z.infer<typeof sessionEvent>;

/**
 * LISTENs for session revocations and permission changes made by any API process (or the
 * CLI) and hands those of our schema to `onEvent`. After a lost connection it reconnects and
 * calls `onResync`, since events may have been missed meanwhile.
 */
export async function listenForSessionEvents(options: {
  databaseUrl: string;
  ssl?: false | TlsOptions;
  schema: string;
  logger: Logger;
  onEvent: (event: SessionEvent) => void;
  onResync: () => void;
}): Promise<{ stop: () => Promise<void> }> {
  let client: Client | null = null;
  let stopped = false;

  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString: options.databaseUrl, ssl: options.ssl ?? false });
    next.on('notification', (message) => {
      const parsed = sessionEvent.safeParse(JSON.parse(message.payload ?? '{}'));
      if (parsed.success && parsed.data.schema === options.schema) options.onEvent(parsed.data);
    });
    next.on('error', (error) => {
      options.logger.warn({ err: error }, 'session events connection lost; reconnecting');
      void reconnect();
    });
    await next.connect();
    await next.query(`LISTEN ${next.escapeIdentifier(sessionEventsChannel)}`);
    client = next;
  };

  const reconnect = async () => {
    const lost = client;
    client = null;
    await lost?.end().catch(() => undefined);
    for (let delay = 100; !stopped; delay = Math.min(delay * 2, 5_000)) {
      try {
        await connect();
        options.onResync();
        return;
      } catch (error) {
        options.logger.warn({ err: error }, 'session events: reconnect failed');
        await sleep(delay);
      }
    }
  };

  await connect();
  return {
    stop: async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    },
  };
}
