import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Router from '@koa/router';
import { stringify } from 'csv-stringify';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { UnknownStatsCursorError, assertKnownCursor, queryStats, streamStats } from '../../db/stats';
import {
  statsCsvColumns,
  statsCsvFilename,
  statsCsvRecord,
  statsQuery,
  type StatsGroup,
  type StatsQuery,
  type StatsRow,
} from '../../domain/stats-query';
import { requirePermission, requireSession, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { ApiError } from '../http/errors';
import { json, errors, bearer } from '../http/openapi-parts';
import { statsGroup, statsRow } from '../../domain/stats-query';
import { statsSource } from '../../domain/stats-rollup-group';

const format = z.enum(['json', 'csv']).optional();

/** Each kind of bad parameter has its own code, so a client can tell them apart. */
const codeForParameter: Record<string, string> = {
  from: 'INVALID_DATE',
  to: 'INVALID_DATE',
  rollup: 'INVALID_ROLLUP',
  bucket: 'INVALID_BUCKET',
  tz: 'INVALID_TIME_ZONE',
  model: 'INVALID_MODEL',
  status: 'INVALID_STATUS',
  cursor: 'INVALID_CURSOR',
  limit: 'INVALID_LIMIT',
};

function parseStatsQuery(raw: Record<string, unknown>): StatsQuery {
  const parsed = statsQuery.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(({ path, message }) => ({ parameter: String(path[0] ?? ''), message }));
  const first = issues[0]!;
  throw new ApiError(
    400,
    codeForParameter[first.parameter] ?? 'INVALID_QUERY',
    issues.map((issue) => `${issue.parameter}: ${issue.message}`).join('; '),
    { issues },
  );
}

/**
 * `GET /api/admin/stats`, for admins: request stats with filters, rollups that combine, and time
 * buckets. It answers JSON pages, or one streamed CSV of every row (`format=csv`, or
 * `Accept: text/csv`).
 */
export function adminStatsRoutes(deps: { db: DatabasePool; authenticate: Authenticate; logger: Logger }) {
  const { db, logger } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/stats', requireSession(deps.authenticate), requirePermission('ADMIN'));

  router.get('/api/admin/stats', async (ctx) => {
    const { format: _format, ...parameters } = ctx.query;
    const query = parseStatsQuery(parameters);
    const wanted = format.safeParse(ctx.query.format);
    if (!wanted.success) throw new ApiError(400, 'INVALID_FORMAT', 'format: must be json or csv');
    try {
      await assertKnownCursor(db, query);
    } catch (error) {
      if (error instanceof UnknownStatsCursorError) {
        throw new ApiError(
          400,
          'INVALID_CURSOR',
          'The cursor names no stats row; use nextCursor from the previous page',
        );
      }
      throw error;
    }
    const csv = wanted.data === 'csv' || (wanted.data === undefined && ctx.accepts('json', 'text/csv') === 'text/csv');
    if (!csv) {
      const page = await queryStats(db, query);
      ctx.body = { query, timeZone: query.tz, ...page };
      return;
    }

    const body = new PassThrough();
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(statsCsvFilename(query));
    ctx.body = body;
    const toRecord = new Transform({
      objectMode: true,
      transform: (row: StatsRow | StatsGroup, _encoding, done) => done(null, statsCsvRecord(row)),
    });
    const csvOut = stringify({ header: true, columns: statsCsvColumns(query) });
    // Not awaited: Koa sends the body as it is written; the database cursor follows the client's pace.
    streamStats(db, query, (rows) => {
      pipeline(rows, toRecord, csvOut, body).catch((error: Error) => {
        logger.warn({ err: error }, 'stats CSV export ended early');
        rows.destroy(error);
      });
    }).catch((error: Error) => {
      logger.error({ err: error }, 'stats CSV export failed');
      body.destroy(error);
    });
  });

  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const adminStatsPaths = {
  '/api/admin/stats': {
    get: {
      summary: 'Request stats with filters, rollups and time buckets; JSON pages or one streamed CSV (ADMIN)',
      description:
        'Dates are whole days in `tz` (UTC by default); `to` is included. No rollup and no bucket: one row per request attempt, ' +
        'newest first, paginated by `cursor`. Otherwise one row per group (bucket × model × status, as asked), all at once. ' +
        'Durations in ms: queue wait = pod ready − request, processing = processed − pod ready, total = processed − request. ' +
        'Groups come from the hourly, daily and monthly rollups when they can answer: counts, averages and maxima exact, percentiles within ' +
        '`source.percentileRelativeError` (1 %) of percentile_cont; otherwise (a zone with a half-hour offset, a backfill pending) ' +
        'from the rows, exact, with `source.reason`. The CSV is always read from the rows.',
      security: bearer,
      parameters: [
        {
          name: 'model',
          description: 'one or more model ids, comma-separated or repeated',
          schema: { type: 'string' },
        },
        { name: 'from', description: 'first day included, YYYY-MM-DD', schema: { type: 'string', format: 'date' } },
        { name: 'to', description: 'last day included, YYYY-MM-DD', schema: { type: 'string', format: 'date' } },
        { name: 'status', schema: { type: 'string', enum: ['success', 'failure'] } },
        { name: 'rollup', description: 'model, status or model,status', schema: { type: 'string' } },
        { name: 'bucket', schema: { type: 'string', enum: ['hour', 'day'] } },
        {
          name: 'tz',
          description: 'IANA time zone of the dates and buckets',
          schema: { type: 'string', default: 'UTC' },
        },
        {
          name: 'cursor',
          description: 'nextCursor of the previous page (raw rows only)',
          schema: { type: 'string' },
        },
        { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        {
          name: 'format',
          description: 'csv streams every row (or send Accept: text/csv)',
          schema: { type: 'string', enum: ['json', 'csv'] },
        },
      ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
      responses: {
        200: {
          description: 'a page of rows or every group; or text/csv with a header row',
          content: {
            ...json(
              z.object({
                grouped: z.boolean(),
                timeZone: z.string(),
                source: statsSource,
                rows: z.array(z.union([statsRow, statsGroup])),
                nextCursor: z.string().nullable(),
              }),
            ),
            'text/csv': { schema: { type: 'string' } },
          },
        },
        ...errors(400, 401, 403),
      },
    },
  },
};
