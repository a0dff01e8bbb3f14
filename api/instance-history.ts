import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import type { ReadableEvent } from '../domain/instances';

type HistoryEvent = proto.api.history.v1.IHistoryEvent;
type Payloads = proto.api.common.v1.IPayloads | null | undefined;

function decode(payloads: Payloads): unknown[] {
  return (payloads?.payloads ?? []).map((payload) => {
    try {
      return defaultPayloadConverter.fromPayload(payload);
    } catch {
      return '(binary payload)';
    }
  });
}

const eventTypeName = (type: number | null | undefined) =>
  (proto.api.enums.v1.EventType[type ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');

/**
 * The events of a pool workflow's history that concern one instance, readably: the activities
 * started with its id (start, await ready, stop), how each ended, and signals naming it. Pure.
 */
export function eventsAboutInstance(events: HistoryEvent[], instanceId: string): ReadableEvent[] {
  const mentions = (values: unknown[]) => JSON.stringify(values).includes(instanceId);
  const scheduled = new Map<string, string>(); // scheduled event id → activity type
  const readable: ReadableEvent[] = [];
  const push = (event: HistoryEvent, name: string | null, detail: unknown) =>
    readable.push({
      eventId: Number(event.eventId),
      time: tsToDate(event.eventTime!).toISOString(),
      type: eventTypeName(event.eventType),
      name,
      detail,
    });

  for (const event of events) {
    const scheduledAttributes = event.activityTaskScheduledEventAttributes;
    if (scheduledAttributes) {
      const input = decode(scheduledAttributes.input);
      if (!mentions(input)) continue;
      const name = scheduledAttributes.activityType?.name ?? null;
      scheduled.set(String(event.eventId), name ?? '');
      push(event, name, input[0]);
      continue;
    }
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes;
    if (ended && scheduled.has(String(ended.scheduledEventId))) {
      const completed = event.activityTaskCompletedEventAttributes;
      const failed = event.activityTaskFailedEventAttributes;
      push(
        event,
        scheduled.get(String(ended.scheduledEventId))!,
        completed ? (decode(completed.result)[0] ?? null) : (failed?.failure?.message ?? 'timed out'),
      );
      continue;
    }
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal) {
      const input = decode(signal.input);
      if (mentions(input)) push(event, signal.signalName ?? null, input[0]);
    }
  }
  return readable;
}

/**
 * The pool workflow's events about the instance, from its current run (a pool that has
 * continued as new since has the instance's start in an earlier run; the Web UI link shows it).
 */
export async function fetchInstanceHistory(
  temporal: Client,
  poolWorkflowId: string,
  instanceId: string,
): Promise<ReadableEvent[] | null> {
  try {
    const history = await temporal.workflow.getHandle(poolWorkflowId).fetchHistory();
    return eventsAboutInstance(history.events ?? [], instanceId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
