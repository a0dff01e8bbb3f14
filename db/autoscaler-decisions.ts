import { sql, type CommonQueryMethods } from 'slonik';
import { isoTimestamp } from './sql-fragments';
import { autoscalerDecision, type AutoscalerDecision } from '../domain/autoscaler-decision';

/** One round of the node autoscaler that did something, or had pods it could not help. */
export async function recordAutoscalerDecision(db: CommonQueryMethods, decision: AutoscalerDecision): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO autoscaler_decisions (decision_id, decided_at, acted_at, pending_pods, nodes, actions, reasons, results)
    VALUES (${decision.decisionId}, ${decision.decidedAt}, ${decision.actedAt}, ${decision.pendingPods}, ${decision.nodes},
            ${sql.jsonb(decision.actions as never)}, ${sql.jsonb(decision.reasons)}, ${sql.jsonb(decision.results)})
    ON CONFLICT (decision_id) DO NOTHING`);
}

/** The latest decisions, newest first. */
export async function listAutoscalerDecisions(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly AutoscalerDecision[]> {
  return db.any(sql.type(autoscalerDecision)`
    SELECT decision_id AS "decisionId",
           ${isoTimestamp(sql.fragment`decided_at`)} AS "decidedAt", ${isoTimestamp(sql.fragment`acted_at`)} AS "actedAt",
           pending_pods AS "pendingPods", nodes, actions, reasons, results
      FROM autoscaler_decisions ORDER BY decided_at DESC, id DESC LIMIT ${limit}`);
}
