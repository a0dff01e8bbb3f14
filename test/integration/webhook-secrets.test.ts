import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../activities/webhook-signature';
import { eventually } from '../support/eventually';
import { echoInput, testWebhookSecret, useTestStack } from '../support/test-stack';

let receiver: ReturnType<typeof createServer>;
let hookUrl: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
const stack = useTestStack();
beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  receiver?.close();
});

/** Submits a request with the webhook and returns the delivery the receiver got for it. */
async function deliveryFor(token: string) {
  const id = await stack.api.submitAccepted(token, { model: 'echo', input: echoInput, webhook: hookUrl });
  const delivery = await eventually(
    async () => received.find((r) => r.headers['x-podium-request-id'] === id),
    (found) => found !== undefined,
    15_000,
  );
  expect(delivery).toBeDefined();
  return { body: delivery!.body, signature: String(delivery!.headers['x-podium-signature']) };
}
const verifies = (secret: string, { body, signature }: { body: string; signature: string }) =>
  verifyWebhook(secret, body, signature, Math.floor(Date.now() / 1000));
const rotate = (token: string, json?: unknown) => stack.api.call('POST', '/api/webhook-secrets', { token, json });

describe("each owner's webhook signing secret", () => {
  it("signs the owner's deliveries with their own secret once they make one, and nobody else's", async () => {
    const [owner, stranger] = [await stack.api.anonymousToken(), await stack.api.anonymousToken()];
    // Before: the installation's WEBHOOK_SECRET, as ever.
    expect(verifies(testWebhookSecret, await deliveryFor(owner))).toBe(true);

    const made = await rotate(owner);
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    expect(made.body).toMatchObject({
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
      current: true,
      expiresAt: null,
    });
    const delivery = await deliveryFor(owner);
    expect(verifies(made.body.secret, delivery)).toBe(true);
    expect(verifies(testWebhookSecret, delivery)).toBe(false);

    const theirs = (await rotate(stranger)).body.secret as string;
    expect(verifies(theirs, delivery)).toBe(false);
    expect(verifies(made.body.secret, await deliveryFor(stranger))).toBe(false);
  });

  it('keeps verifying through a rotation: the old and the new secret both sign until the old one expires', async () => {
    const owner = (await stack.signUpAdmin('hooks', [])).token;
    const first = (await rotate(owner)).body.secret as string;
    const second = await rotate(owner, { previousValidForSeconds: 3600 });
    expect(second.status).toBe(201);
    const during = await deliveryFor(owner);
    expect(during.signature.match(/v1=/g)).toHaveLength(2);
    expect(verifies(first, during)).toBe(true);
    expect(verifies(second.body.secret, during)).toBe(true);

    const listed = await stack.api.call('GET', '/api/webhook-secrets', { token: owner });
    expect(
      listed.body.secrets.map((s: { current: boolean; expiresAt: string | null }) => [s.current, s.expiresAt === null]),
    ).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(first);

    // Rotating with no overlap: only the newest signs from now on.
    const third = (await rotate(owner, { previousValidForSeconds: 0 })).body.secret as string;
    const after = await deliveryFor(owner);
    expect(verifies(third, after)).toBe(true);
    expect(verifies(second.body.secret, after)).toBe(false);
    expect(verifies(first, after)).toBe(true); // the first still had its hour
  });

  it('refuses a bad rotation with a code, and changes nothing', async () => {
    const owner = await stack.api.anonymousToken();
    const refused = await rotate(owner, { previousValidForSeconds: -1 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect((await stack.api.call('GET', '/api/webhook-secrets', { token: owner })).body.secrets).toEqual([]);
    expect((await stack.api.call('POST', '/api/webhook-secrets')).status).toBe(401);
  });
});
