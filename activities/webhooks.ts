import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { findWebhookUrl, findWorkRequestView, recordWebhookDelivery } from '../db/work-requests';
import { signatureHeader, signWebhook } from './webhook-signature';

const deliveryTimeoutMs = 10_000;

export function createWebhookActivities({ db, webhookSecret }: { db: DatabasePool; webhookSecret: string }) {
  return {
    /**
     * POSTs the finished request's status body to its webhook, signed. Each try is recorded;
     * anything but a 2xx throws, and Temporal retries with backoff.
     */
    async deliverWebhook({ requestId }: { requestId: string }): Promise<void> {
      const url = await findWebhookUrl(db, requestId);
      const body = JSON.stringify(await findWorkRequestView(db, requestId));
      const attempt = Context.current().info.attempt;
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Podium-Webhook/1',
            [signatureHeader]: signWebhook(webhookSecret, body, Math.floor(Date.now() / 1000)),
            'x-podium-request-id': requestId,
            'x-podium-delivery-attempt': String(attempt),
          },
          body,
          signal: AbortSignal.timeout(deliveryTimeoutMs),
          redirect: 'manual',
        });
        statusCode = response.status;
        await response.body?.cancel();
        if (!response.ok) error = `answered ${response.status}`;
      } catch (caught) {
        error = (caught as Error).message;
      }
      await recordWebhookDelivery(db, { requestId, attempt, url, statusCode, error });
      if (error) throw ApplicationFailure.retryable(`webhook ${url}: ${error}`, 'WEBHOOK_FAILED');
    },
  };
}
