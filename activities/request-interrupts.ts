import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { listenForRequestNotes } from '../db/notification-listener';
import { requestInterruptsChannel } from '../db/request-interrupts';
import { keyedSignals } from '../domain/keyed-signals';
import { workflowNames } from '../workflows/contracts';

/** The requests whose calls this worker runs now, each cut the moment its request is interrupted. */
export type RequestInterrupts = {
  /** An AbortSignal that aborts when the request is interrupted; `stop` when the call is over. */
  watch(requestId: string): { signal: AbortSignal; stop: () => void };
};

/** In-process interrupts: `interrupt` aborts every watch of the request. */
export function createRequestInterrupts(): RequestInterrupts & { interrupt(requestId: string): void } {
  const signals = keyedSignals();
  return { watch: signals.watch, interrupt: signals.fire };
}

/** Interrupts heard from PostgreSQL (db/request-interrupts.ts), for this schema's requests. */
export async function listenForRequestInterrupts(options: {
  databaseUrl: string;
  ssl?: false | TlsOptions;
  schema: string;
  logger: Logger;
}): Promise<RequestInterrupts & { stop: () => Promise<void> }> {
  const interrupts = createRequestInterrupts();
  const listener = await listenForRequestNotes({
    ...options,
    channel: requestInterruptsChannel,
    name: 'request interrupts',
    onRequest: interrupts.interrupt,
  });
  return { watch: interrupts.watch, stop: listener.stop };
}

const never = { signal: new AbortController().signal, stop: () => undefined };

/**
 * The interrupts of the request whose activity runs in `workflowType`. Only the second request
 * workflow knows to wait for the signal behind a cut call; the first would take the cut for a
 * failed call, so its calls are never cut.
 */
export function watchInterrupts(
  interrupts: RequestInterrupts | undefined,
  workflowType: string | undefined,
  requestId: string,
) {
  return interrupts && workflowType === workflowNames.modelRequest2 ? interrupts.watch(requestId) : never;
}
