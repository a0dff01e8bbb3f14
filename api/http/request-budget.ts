import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import type { DatabasePool } from 'slonik';
import { withQueryDeadline } from '../../db/query-deadline';

const budgets = new AsyncLocalStorage<{ deadline: number }>();

/**
 * Every request gets `ms` in all to wait on PostgreSQL and Temporal (plus what a long poll sets
 * aside): each query and call takes what is left (`budgetLeft`), so a caller gets its answer, or
 * a coded 503, in about that time however many waits its route makes, even while connections are
 * scarce because a dependency hangs.
 */
export function answerWithin(ms: number): Middleware {
  return (_ctx, next) => budgets.run({ deadline: Date.now() + ms }, next);
}

/** What is left of the request's budget, at most `capMs` (`capMs` outside a request). */
export function budgetLeft(capMs: number): number {
  const budget = budgets.getStore();
  return budget ? Math.max(0, Math.min(capMs, budget.deadline - Date.now())) : capMs;
}

/** Time the route spends waiting on purpose (a long poll) does not count against its budget. */
export function setAside(ms: number): void {
  const budget = budgets.getStore();
  if (budget) budget.deadline += ms;
}

/** The pool as the API's routes use it: each query gets what is left of its request's budget. */
export function withinRequestBudget(db: DatabasePool, capMs: number): DatabasePool {
  return withQueryDeadline(db, () => budgetLeft(capMs));
}

/**
 * Runs `work` outside the request's budget: a stream that outlives its request gives each of
 * its queries the cap, as a request of its own would have.
 */
export function outsideRequestBudget<T>(work: () => T): T {
  return budgets.exit(work);
}
