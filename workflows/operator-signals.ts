import { defineSignal, log, proxyActivities } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';

/**
 * Signals an operator may send with the Temporal CLI (docs/operations.md). Each carries who sends
 * it and why; the workflow checks the payload itself (a malformed one is logged and changes
 * nothing) and writes the audit row, so an action from the CLI is audited as one from the API.
 * Plain checks, not a schema library: this runs in the workflow sandbox on every replay.
 */
export type OperatorNote = { actor: string; reason: string };

/** The workflows' audit rows of operators' actions (a regular activity: it may run beside local ones). */
export const operatorAudits = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

export const operatorCancelSignal = defineSignal<[unknown]>('operatorCancel');
export const operatorFailSignal = defineSignal<[unknown]>('operatorFail');
export const operatorRequeueSignal = defineSignal<[unknown]>('operatorRequeue');
export const operatorStopInstanceSignal = defineSignal<[unknown]>('operatorStopInstance');
export const operatorSetMinInstancesSignal = defineSignal<[unknown]>('operatorSetMinInstances');
export const operatorPauseAutoscalerSignal = defineSignal<[unknown]>('operatorPauseAutoscaler');
export const operatorResumeAutoscalerSignal = defineSignal<[unknown]>('operatorResumeAutoscaler');

type Check<T> = { ok: true; value: T } | { ok: false; problems: string[] };

const text = (value: unknown, max: number) =>
  typeof value === 'string' && value.trim().length > 0 && value.length <= max;
const wholeNumber = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** `{ actor, reason, …extra }`, nothing else: the extra fields' checks by name. */
export function checkOperatorPayload<T extends object>(
  payload: unknown,
  extra: { [K in keyof T]: (value: unknown) => boolean } = {} as never,
): Check<OperatorNote & T> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, problems: ['the payload must be a JSON object with "actor" and "reason"'] };
  }
  const fields = payload as Record<string, unknown>;
  const problems: string[] = [];
  if (!text(fields.actor, 100)) problems.push('"actor": who sends it, 1-100 characters');
  if (!text(fields.reason, 500)) problems.push('"reason": why, 1-500 characters');
  for (const [name, valid] of Object.entries(extra) as [string, (value: unknown) => boolean][]) {
    if (!valid(fields[name])) problems.push(`"${name}" is missing or not valid`);
  }
  const known = new Set(['actor', 'reason', ...Object.keys(extra)]);
  for (const name of Object.keys(fields))
    if (!known.has(name)) problems.push(`"${name}" is not a field of this signal`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: fields as OperatorNote & T };
}

/** The payload, checked; null (and a log line saying what was wrong) when it is malformed. */
export function acceptOperatorPayload<T extends object>(
  signal: string,
  payload: unknown,
  extra?: { [K in keyof T]: (value: unknown) => boolean },
): (OperatorNote & T) | null {
  const checked = checkOperatorPayload<T>(payload, extra);
  if (checked.ok) return checked.value;
  log.warn('operator signal refused', { signal, problems: checked.problems });
  return null;
}

export const isInstanceId = (value: unknown) =>
  typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
export const isMinInstances = (value: unknown) => wholeNumber(value, 0, 100);
export const isSeconds = (value: unknown) => wholeNumber(value, 1, 7 * 24 * 3600);
/** A retention of a day to ten years: 0 would delete every ended request. */
export const isRetentionDays = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= 3_650;
