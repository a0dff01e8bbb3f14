import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { findWebhookSigningSecrets } from '../db/webhook-secrets';
import { findWebhookUrl, findWorkRequestView, recordWebhookDelivery } from '../db/work-requests';
import {
  checkedLookup,
  ForbiddenWebhookAddressError,
  webhookAddressPolicy,
  type WebhookAddressPolicy,
} from './webhook-address';
import { signatureHeader, signWebhook } from './webhook-signature';
import { webhookDeliveries } from '../lib/metrics';

const deliveryTimeoutMs = 10_000;

/** POSTs `body` to `url`, connecting only to addresses the policy permits; the status it answered. */
function post(url: URL, headers: Record<string, string>, body: string, policy: WebhookAddressPolicy): Promise<number> {
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // A host written as an IP address is never looked up: check it here.
  if (isIP(literal) && !policy.permits(literal)) {
    return Promise.reject(new ForbiddenWebhookAddressError(`${literal} is not an address webhooks may reach`));
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method: 'POST', headers, lookup: checkedLookup(policy), signal: AbortSignal.timeout(deliveryTimeoutMs) },
      (response) => {
        response.resume(); // the receiver's body is not ours to read
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export function createWebhookActivities({
  db,
  webhookSecret,
  webhookAllowedAddresses = [],
}: {
  db: DatabasePool;
  webhookSecret: string;
  /** CIDRs webhooks may reach although they are not public (local testing); none by default. */
  webhookAllowedAddresses?: readonly string[];
}) {
  const policy = webhookAddressPolicy(webhookAllowedAddresses);
  return {
    /**
     * POSTs the finished request's status body to its webhook, signed with its owner's
     * secrets (or WEBHOOK_SECRET, for owners who made none), never to loopback,
     * private, link-local or metadata addresses. Each try is recorded with a generic outcome
     * (the requester reads it: it must not tell them what is behind an address); anything but
     * a 2xx throws, and Temporal retries with backoff. Neither the URL nor the error text goes
     * into workflow history.
     */
    async deliverWebhook({ requestId }: { requestId: string }): Promise<void> {
      const url = await findWebhookUrl(db, requestId);
      const body = JSON.stringify(await findWorkRequestView(db, requestId));
      // The owner's own secrets (two through a rotation); WEBHOOK_SECRET for owners who made none.
      const owned = await findWebhookSigningSecrets(db, requestId);
      const attempt = Context.current().info.attempt;
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Podium-Webhook/1',
        [signatureHeader]: signWebhook(owned.length > 0 ? owned : webhookSecret, body, Math.floor(Date.now() / 1000)),
        'x-podium-request-id': requestId,
        'x-podium-delivery-attempt': String(attempt),
      };
      let statusCode: number | null = null;
      let error: string | null = null;
      let forbidden = false;
      try {
        statusCode = await post(new URL(url), headers, body, policy);
        if (statusCode < 200 || statusCode > 299) error = `answered ${statusCode}`;
      } catch (caught) {
        forbidden = caught instanceof ForbiddenWebhookAddressError;
        error = forbidden ? 'the address is not one webhooks may reach' : 'could not deliver';
        log.warn('webhook delivery failed', { requestId, attempt, error: (caught as Error).message });
      }
      await recordWebhookDelivery(db, { requestId, attempt, url, statusCode, error });
      webhookDeliveries.inc({ outcome: forbidden ? 'refused' : error ? 'failed' : 'delivered' });
      if (forbidden) throw ApplicationFailure.nonRetryable('webhook address forbidden', 'WEBHOOK_ADDRESS_FORBIDDEN');
      if (error) throw ApplicationFailure.retryable('webhook delivery failed', 'WEBHOOK_FAILED');
    },
  };
}
