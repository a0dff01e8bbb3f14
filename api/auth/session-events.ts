import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { z } from 'zod';
import { listenToChannel, parsePayload } from '../../db/notification-listener';
import { sessionEventsChannel } from '../../db/session-events';

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
  return listenToChannel({
    ...options,
    channel: sessionEventsChannel,
    name: 'session events',
    onPayload: (payload) => {
      const parsed = sessionEvent.safeParse(parsePayload(payload));
      if (parsed.success && parsed.data.schema === options.schema) options.onEvent(parsed.data);
    },
  });
}
