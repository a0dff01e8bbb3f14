import { webhookAddressPolicy } from '../../activities/webhook-address';

describe('where webhooks may go', () => {
  const policy = webhookAddressPolicy();

  it.each([
    ['loopback', '127.0.0.1'],
    ['loopback, anywhere in 127/8', '127.45.6.7'],
    ['IPv6 loopback', '::1'],
    ['the cloud metadata service', '169.254.169.254'],
    ['link-local', '169.254.10.1'],
    ['private 10/8', '10.1.2.3'],
    ['private 172.16/12', '172.31.255.1'],
    ['private 192.168/16', '192.168.0.10'],
    ['carrier-grade NAT', '100.64.0.1'],
    ['this network', '0.0.0.0'],
    ['unique local IPv6 (an AWS metadata address among them)', 'fd00:ec2::254'],
    ['IPv6 link-local', 'fe80::1'],
    ['loopback written as IPv4-mapped IPv6', '::ffff:127.0.0.1'],
    ['broadcast', '255.255.255.255'],
  ])('refuses %s (%s)', (_what, address) => {
    expect(policy.permits(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::6810:84e5'])('lets public %s through', (address) => {
    expect(policy.permits(address)).toBe(true);
  });

  it('opens only the ranges a setting names, for local testing', () => {
    const local = webhookAddressPolicy(['127.0.0.1/32', '10.0.0.0/8']);
    expect(local.permits('127.0.0.1')).toBe(true);
    expect(local.permits('10.9.9.9')).toBe(true);
    expect(local.permits('127.0.0.2')).toBe(false);
    expect(local.permits('169.254.169.254')).toBe(false);
  });
});
