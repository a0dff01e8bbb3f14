import { clientKey } from '../../domain/client-address';

describe('the client an address counts as', () => {
  it.each([
    ['an IPv4 address, as it is', '203.0.113.7', '203.0.113.7'],
    ['an IPv6 address, by its /64', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['another address of the same /64, the same', '2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['another /64, another client', '2001:db8:1:3::9', '2001:db8:1:3::/64'],
    ['an IPv4-mapped IPv6 address, as its IPv4 address', '::ffff:10.1.2.3', '10.1.2.3'],
  ])('%s', (_what, ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
