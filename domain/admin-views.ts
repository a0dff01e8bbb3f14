import { z } from 'zod';
import { modelId } from './model-catalog';
import { requestPriority } from './request-priority';
import { requestStatus } from './request-status';
import { calendarDate } from './stats-query';
import { requestError, requestInput, requestResult } from './work-request';

const refineDates = <T extends { from?: string; to?: string }>(q: T) => !q.from || !q.to || q.from <= q.to;

/**
 * `GET /api/admin/requests`: every user's requests, newest first. `user` is a user id or a
 * username; `session` an (anonymous) session id; dates are whole UTC days, `to` included.
 */
export const adminRequestsQuery = z
  .strictObject({
    user: z.string().trim().min(1).max(64).optional(),
    session: z.uuid().optional(),
    model: modelId.optional(),
    status: requestStatus.optional(),
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    cursor: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .refine(refineDates, { message: 'must not be before from', path: ['to'] });
export type AdminRequestsQuery = z.infer<typeof adminRequestsQuery>;

/**
 * A request as the admin list shows it: who, what, when, how it went — never its input, its
 * result or its error message (those come from the audited sensitive endpoint).
 */
export const adminRequestSummary = z.object({
  id: z.uuid(),
  model: z.string(),
  status: requestStatus,
  priority: requestPriority,
  /** By when its answer was of use (null: no deadline). */
  deadline: z.string().nullable(),
  attempt: z.number().int(),
  userId: z.uuid().nullable(),
  username: z.string().nullable(),
  sessionId: z.uuid(),
  anonymous: z.boolean(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** The error's code only (e.g. INSTANCE_STARTUP_TIMEOUT); its message may quote model output. */
  errorCode: z.string().nullable(),
  /** created → started (waiting for an instance), started → finished, created → finished. */
  waitMs: z.number().nullable(),
  runMs: z.number().nullable(),
  totalMs: z.number().nullable(),
  instanceId: z.uuid().nullable(),
});
export type AdminRequestSummary = z.infer<typeof adminRequestSummary>;

/** `GET /api/admin/instances`: live instances; dates are whole UTC days of the instance's start. */
export const adminInstancesQuery = z
  .strictObject({
    model: modelId.optional(),
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    /** Pod phase (Pending, Running, …) or Podium's instance status (READY, PENDING, …). */
    status: z
      .string()
      .regex(/^[A-Za-z]{1,32}$/, 'must be a pod phase or an instance status')
      .optional(),
  })
  .refine(refineDates, { message: 'must not be before from', path: ['to'] });
export type AdminInstancesQuery = z.infer<typeof adminInstancesQuery>;

/** A request's input, result and error: only ever shown after an audit_log row says who asked. */
export const sensitiveRequest = z.object({
  id: z.uuid(),
  input: requestInput,
  result: requestResult.nullable(),
  error: requestError.nullable(),
  webhookUrl: z.string().nullable(),
});
export type SensitiveRequest = z.infer<typeof sensitiveRequest>;
