import { sql, type CommonQueryMethods } from 'slonik';

/** One channel for every schema; the payload names the schema (see docs/architecture.md). */
export const requestInterruptsChannel = 'podium_request_interrupts';

/**
 * Tells every worker (at commit, or at once outside a transaction) that the request was just
 * signalled to stop (a cancel, an admin's fail or re-queue): a call to its model still running
 * is cut at once, where the signal alone would reach it only at its workflow task's heartbeat.
 * The signal stays the durable record of what to do; this only makes it quick.
 */
export async function notifyRequestInterrupt(db: CommonQueryMethods, requestId: string): Promise<void> {
  await db.query(sql.unsafe`
    SELECT pg_notify(${requestInterruptsChannel}, json_build_object('schema', current_schema(), 'requestId', ${requestId}::text)::text)`);
}
