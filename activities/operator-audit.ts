import { log } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { writeAuditLog } from '../db/audit-log';

export type OperatorAction = {
  actor: string;
  reason: string;
  /** As the API names it, so an action is audited alike whichever way it came. */
  action: string;
  targetType: string;
  targetId: string;
  detail?: Record<string, unknown>;
};

export function createOperatorAuditActivities({ db }: { db: DatabasePool }) {
  return {
    /** The audit row of an operator's signal (docs/operations.md): no account, the actor it named. */
    async recordOperatorAction({
      actor,
      reason,
      action,
      targetType,
      targetId,
      detail = {},
    }: OperatorAction): Promise<void> {
      await writeAuditLog(db, {
        actorUserId: null,
        action,
        targetType,
        targetId,
        detail: { ...detail, reason, actor, via: 'temporal signal' },
      });
      log.info('operator action', { actor, action, targetType, targetId });
    },
  };
}
