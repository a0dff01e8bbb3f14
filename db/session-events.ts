import { sql, type CommonQueryMethods } from 'slonik';

/** One channel for every schema; the payload names the schema (see docs/architecture.md). */
export const sessionEventsChannel = 'podium_session_events';

/**
 * Tells every API process (at commit) to drop cached sessions: one session's, or all of a
 * user's when their permissions changed.
 */
export async function notifySessionEvent(
  db: CommonQueryMethods,
  target: { sessionId: string } | { userId: string },
): Promise<void> {
  const [key, id] = 'sessionId' in target ? ['sessionId', target.sessionId] : ['userId', target.userId];
  await db.query(sql.unsafe`
    SELECT pg_notify(${sessionEventsChannel}, json_build_object('schema', current_schema(), ${key}::text, ${id}::text)::text)`);
}
