import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';

// A worker as production runs it: no address opened for webhooks.
let token: string;
const stack = useTestStack({ webhookAllowedAddresses: [] });
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

describe('webhooks never reach this machine or its network', () => {
  it.each([
    ['an IP address', (port: number) => `http://127.0.0.1:${port}/hook`],
    ['a name that resolves to one', (port: number) => `http://localhost:${port}/hook`],
  ])('to %s: refused without connecting; the requester learns no more than that', async (_what, urlFor) => {
    let connections = 0;
    const receiver = createServer((_request, response) => response.writeHead(204).end());
    receiver.on('connection', () => connections++);
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = urlFor((receiver.address() as AddressInfo).port);
      const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput, webhook: url });
      const details = await eventually(
        () => stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token }),
        (r) => r.body.webhook?.deliveries?.length === 1,
        15_000,
      );
      expect(details.body.status).toBe('COMPLETE');
      expect(details.body.webhook.deliveries).toEqual([
        expect.objectContaining({ attempt: 1, statusCode: null, error: 'the address is not one webhooks may reach' }),
      ]);
      // Not retried (the same address would be refused again), and the history holds a code,
      // not the URL or what happened there.
      await stack.temporal.workflow.getHandle(`request-${submitted.body.id}`).result();
      const history = await stack.temporal.workflow.getHandle(`request-${submitted.body.id}`).fetchHistory();
      const failures = history.events!.flatMap((event) =>
        event.activityTaskFailedEventAttributes ? [event.activityTaskFailedEventAttributes.failure!] : [],
      );
      expect(failures.map((failure) => [failure.message, failure.applicationFailureInfo?.type])).toEqual([
        ['webhook address forbidden', 'WEBHOOK_ADDRESS_FORBIDDEN'],
      ]);
      expect(connections).toBe(0);
    } finally {
      receiver.close();
    }
  });
});
