import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Client } from 'pg';
import { z } from 'zod';

/**
 * LISTENs on one channel on a connection of its own and hands each notification's payload to
 * `onPayload`. After a lost connection it reconnects and calls `onResync`, since notifications
 * may have been missed meanwhile. Channels are shared by every schema: payloads name theirs.
 */
export async function listenToChannel(options: {
  databaseUrl: string;
  ssl?: false | TlsOptions;
  channel: string;
  /** What the log calls this listener. */
  name: string;
  logger: Logger;
  onPayload: (payload: string) => void;
  onResync?: () => void;
}): Promise<{ stop: () => Promise<void> }> {
  let client: Client | null = null;
  let stopped = false;

  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString: options.databaseUrl, ssl: options.ssl ?? false });
    next.on('notification', (message) => options.onPayload(message.payload ?? ''));
    next.on('error', (error) => {
      options.logger.warn({ err: error }, `${options.name} connection lost; reconnecting`);
      void reconnect();
    });
    await next.connect();
    await next.query(`LISTEN ${next.escapeIdentifier(options.channel)}`);
    client = next;
  };

  const reconnect = async () => {
    const lost = client;
    client = null;
    await lost?.end().catch(() => undefined);
    for (let delay = 100; !stopped; delay = Math.min(delay * 2, 5_000)) {
      try {
        await connect();
        options.onResync?.();
        return;
      } catch (error) {
        options.logger.warn({ err: error }, `${options.name}: reconnect failed`);
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

/** A payload's JSON when it parses, else null (a notification is never trusted to be well formed). */
export function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return null;
  }
}

const requestNote = z.object({ schema: z.string(), requestId: z.string() });

/**
 * LISTENs on a channel whose payloads name a request (`{ schema, requestId }`, as
 * db/request-interrupts.ts and migration 025 send them) and hands `onRequest` those of `schema`.
 */
export function listenForRequestNotes(
  options: Omit<Parameters<typeof listenToChannel>[0], 'onPayload'> & {
    schema: string;
    onRequest: (requestId: string) => void;
  },
) {
  const { schema, onRequest, ...listen } = options;
  return listenToChannel({
    ...listen,
    onPayload: (payload) => {
      const note = requestNote.safeParse(parsePayload(payload));
      if (note.success && note.data.schema === schema) onRequest(note.data.requestId);
    },
  });
}
