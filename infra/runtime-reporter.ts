import { Runtime } from '@temporalio/worker';
import type { DatabasePool } from 'slonik';
import type { InstanceRuntime } from '../activities/runtime/instance-runtime';
import { deleteRuntimeView, deleteStaleRuntimeViews, recordRuntimeEvents, saveRuntimeView } from '../db/runtime-views';

/**
 * An assignment is reported within this time rather than at once: a busy instance takes many
 * requests a second, and a report per request was one more statement (and a listing of every
 * instance) on each warm request's path.
 */
const assignmentDelayMs = 250;

/**
 * A worker writes what its runtime runs to PostgreSQL (runtime_views) every `intervalMs` and
 * right after it changes something (start, ready, stop; an assignment soon after), so the admin
 * instances page reads a table instead of starting a workflow per view (issue 19). Only
 * workers hold the runtime and, on Kubernetes, its credentials; the API keeps neither.
 */
export function reportRuntimeViews(options: {
  db: DatabasePool;
  runtime: InstanceRuntime;
  workerId: string;
  intervalMs: number;
}) {
  const { db, runtime, workerId } = options;
  const scope = runtime.kind === 'kubernetes' ? 'cluster' : 'process';
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let failing = false;

  const report = async () => {
    try {
      const instances = await runtime.list({ withEvents: true });
      await saveRuntimeView(db, { workerId, scope, instances });
      await recordRuntimeEvents(db, instances);
      failing = false;
    } catch (error) {
      // Once per outage, not once per tick: the page shows how old its view is.
      if (!failing) {
        const message = error instanceof Error ? error.message : String(error);
        Runtime.instance().logger.warn(
          'could not record what the instance runtime runs; the instances page shows an older view',
          {
            error: message,
          },
        );
      }
      failing = true;
    }
  };
  /** Reports now, or once more after the report under way (changes coalesce). */
  const poke = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = report().finally(() => {
      running = null;
      if (again) {
        again = false;
        poke();
      }
    });
  };
  let soon: NodeJS.Timeout | null = null;
  /** Reports within `assignmentDelayMs`: one report for every assignment in that time. */
  const pokeSoon = (): void => {
    if (stopped || soon) return;
    soon = setTimeout(() => {
      soon = null;
      poke();
    }, assignmentDelayMs);
    soon.unref();
  };
  const timer = setInterval(poke, options.intervalMs);
  timer.unref();
  void deleteStaleRuntimeViews(db).catch(() => undefined); // housekeeping; the next worker tries again
  poke();
  return {
    poke,
    pokeSoon,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      await running;
      await deleteRuntimeView(db, workerId).catch(() => undefined);
    },
  };
}

/**
 * The runtime, telling `views` after each call that changes what it runs: at once for a start,
 * a readiness or a stop, soon for an assignment.
 */
export function observedRuntime(
  runtime: InstanceRuntime,
  views: { poke: () => void; pokeSoon: () => void },
): InstanceRuntime {
  const after = <T>(result: Promise<T>): Promise<T> => result.finally(views.poke);
  return {
    kind: runtime.kind,
    start: (spec) => after(runtime.start(spec)),
    awaitReady: (placed, options) => after(runtime.awaitReady(placed, options)),
    stop: (runtimeRef) => after(runtime.stop(runtimeRef)),
    stopAll: () => runtime.stopAll(),
    list: (filter) => runtime.list(filter),
    events: (runtimeRef) => runtime.events(runtimeRef),
    recordAssignment: (runtimeRef, requestId) =>
      runtime.recordAssignment(runtimeRef, requestId).finally(views.pokeSoon),
  };
}
