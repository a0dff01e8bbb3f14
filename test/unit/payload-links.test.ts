import { payloadLinks } from '../../api/payload-links';

const id = '0b6f3c1e-8a1e-4a57-9d4e-2f1b3c4d5e6f';

describe('payload download links', () => {
  let now = Date.parse('2026-12-05T00:00:00Z');
  const links = payloadLinks('a-secret-of-sixteen-chars', 3600, () => now);
  const parts = (url: string) => Object.fromEntries(new URL(url, 'http://podium').searchParams);

  it('open the payload they were signed for until they expire', () => {
    const { url, expiresAt } = links.sign(id);
    expect(expiresAt).toBe('2026-12-05T01:00:00.000Z');
    const { expires, signature } = parts(url);
    expect(links.verify(id, expires, signature)).toBe(true);
    now += 3_600_001;
    expect(links.verify(id, expires, signature)).toBe(false);
  });

  it('open nothing else: another id, another expiry, another secret', () => {
    now = Date.parse('2026-12-05T00:00:00Z');
    const { expires, signature } = parts(links.sign(id).url);
    expect(links.verify(id.replace('0b6f', '1b6f'), expires, signature)).toBe(false);
    expect(links.verify(id, String(Number(expires) + 60), signature)).toBe(false);
    expect(payloadLinks('another-secret-of-16', 3600, () => now).verify(id, expires, signature)).toBe(false);
    expect(links.verify(id, undefined, signature)).toBe(false);
    expect(links.verify(id, expires, ['a', 'b'])).toBe(false);
  });
});
