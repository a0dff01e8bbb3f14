import Router from '@koa/router';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { findPayload } from '../../db/payloads';
import { ownerId, ownerOf } from '../../db/work-requests';
import type { Authenticate } from '../auth/authenticator';
import { requireSession, type AuthState } from '../auth/session-auth';
import { ApiError } from '../http/errors';
import { bearer, errors, idParameter, json } from '../http/openapi-parts';
import { idParam } from '../http/params';
import { outsideRequestBudget } from '../http/request-budget';
import type { PayloadLinks } from '../payload-links';
import { readUpload, type PayloadDeps } from '../payload-intake';

export type PayloadRouteDeps = PayloadDeps & {
  authenticate: Authenticate;
  links: PayloadLinks;
  /** UPLOAD_TTL_HOURS: an upload no request names is deleted after this long. */
  uploadHours: number;
};

const uploaded = z.object({
  id: z.uuid(),
  size: z.number().int(),
  sha256: z.string(),
  expiresAt: z.string().describe('deleted then, unless a request names it first'),
});

/**
 * Payloads: an upload, streamed in up to PAYLOAD_LIMIT, which a request names in a tensor's
 * `parameters.payload`; and a download of any payload, by its owner or by a signed link.
 */
export function payloadRoutes(deps: PayloadRouteDeps) {
  const router = new Router<AuthState>();
  const { db } = deps;

  router.post('/api/payloads', requireSession(deps.authenticate), async (ctx) => {
    const owner = ownerId(ownerOf(ctx.state.principal!));
    const { id, size } = await readUpload(ctx, owner, deps);
    const row = (await outsideRequestBudget(() => findPayload(db, id)))!;
    ctx.status = 201;
    ctx.set('Location', `/api/payloads/${id}`);
    ctx.body = {
      id,
      size,
      sha256: row.sha256,
      expiresAt: new Date(row.createdAt + deps.uploadHours * 3_600_000).toISOString(),
    };
  });

  /** With a signed link's `expires` and `signature`, anyone; without, the owner's session. */
  router.get('/api/payloads/:id', async (ctx) => {
    const id = idParam(ctx, 'payload');
    if (ctx.query.signature === undefined) {
      await requireSession(deps.authenticate)(ctx, async () => undefined);
    } else if (!deps.links.verify(id, ctx.query.expires, ctx.query.signature)) {
      throw new ApiError(
        403,
        'PAYLOAD_LINK_INVALID',
        'This download link is not valid, or has expired; ask for the request again for a new one',
      );
    }
    const row = await findPayload(db, id);
    const mine = ctx.state.principal ? row?.ownerId === ownerId(ownerOf(ctx.state.principal)) : true;
    if (!row || row.size === null || !mine)
      throw new ApiError(404, 'PAYLOAD_NOT_FOUND', `There is no payload ${id} of yours`);
    if (row.store !== deps.payloads.name) {
      throw new ApiError(500, 'PAYLOAD_STORE_CHANGED', `Payload ${id} is in ${row.store}, not in this server's store`);
    }
    ctx.type = 'application/octet-stream';
    ctx.length = row.size;
    ctx.set('ETag', `"${row.sha256}"`);
    ctx.set('Cache-Control', 'private, max-age=3600, immutable');
    ctx.body = Readable.from(deps.payloads.read(id));
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const payloadPaths = {
  '/api/payloads': {
    post: {
      summary:
        "Upload a payload (a tensor's bytes as OIP's binary extension lays them out), streamed, up to PAYLOAD_LIMIT",
      description:
        'A request names it in a tensor: `{ "name", "datatype", "shape", "parameters": { "payload": id } }` with no `data`. ' +
        'An upload no request names is deleted after UPLOAD_TTL_HOURS; one cut halfway leaves nothing.',
      security: bearer,
      requestBody: {
        required: true,
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      responses: { 201: { description: 'stored', content: json(uploaded) }, ...errors(400, 401, 413, 503) },
    },
  },
  '/api/payloads/{id}': {
    get: {
      summary: "A payload's bytes: yours with your token, or anyone's with a signed link (`expires`, `signature`)",
      security: bearer,
      parameters: [
        idParameter,
        { name: 'expires', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'signature', in: 'query', required: false, schema: { type: 'string' } },
      ],
      responses: {
        200: {
          description: 'the bytes',
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
        ...errors(400, 401, 403, 404),
      },
    },
  },
};
