import { sql, type CommonQueryMethods } from 'slonik';

/** Who did what to which thing; written before (or with) the act itself. */
export async function writeAuditLog(
  db: CommonQueryMethods,
  entry: {
    actorUserId: string | null;
    action: string;
    targetType: string;
    targetId: string;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO audit_log (actor_user_id, action, target_type, target_id, detail)
    VALUES (${entry.actorUserId}, ${entry.action}, ${entry.targetType}, ${entry.targetId}, ${sql.jsonb((entry.detail ?? {}) as never)})`);
}
