import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * Where a webhook may not go: this machine, its neighbours and the cloud's metadata service.
 * A requester could otherwise use deliveries to reach (or map) what only Podium can reach.
 */
const forbidden: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local, the metadata service 169.254.169.254 among them
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // protocol assignments
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 3, 'ipv4'], // multicast and reserved, broadcast included
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['64:ff9b::', 96, 'ipv6'], // NAT64 onto IPv4, which may be private
  ['fc00::', 7, 'ipv6'], // unique local, fd00:ec2::254 (a metadata service) among them
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

/** Decides which addresses a webhook may connect to; `allowed` (CIDRs) opens ranges, for local testing. */
export function webhookAddressPolicy(allowed: readonly string[] = []) {
  const blocked = new BlockList();
  for (const [network, prefix, type] of forbidden) blocked.addSubnet(network, prefix, type);
  const exceptions = new BlockList();
  for (const cidr of allowed) {
    const [network, prefix] = cidr.split('/');
    const type = isIP(network!) === 6 ? 'ipv6' : 'ipv4';
    exceptions.addSubnet(network!, Number(prefix ?? (type === 'ipv6' ? 128 : 32)), type);
  }
  return {
    /** Whether a connection to this IP address is allowed. */
    permits(address: string): boolean {
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      return exceptions.check(address, type) || !blocked.check(address, type);
    },
  };
}
export type WebhookAddressPolicy = ReturnType<typeof webhookAddressPolicy>;

/** Thrown when every address a webhook host resolves to is forbidden. */
export class ForbiddenWebhookAddressError extends Error {
  readonly code = 'WEBHOOK_ADDRESS_FORBIDDEN';
}

/**
 * A DNS lookup for node:http that resolves the host, keeps only permitted addresses, and hands
 * the socket one of those: the connection goes to the address that was checked, so a DNS
 * answer that changes between check and connect (rebinding) cannot slip through.
 */
export function checkedLookup(policy: WebhookAddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const permitted = addresses.filter((entry) => policy.permits(entry.address));
      if (permitted.length === 0) {
        return callback(
          new ForbiddenWebhookAddressError(`${hostname} resolves only to addresses webhooks may not reach`),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: typeof permitted) => void)(null, permitted);
      callback(null, permitted[0]!.address, permitted[0]!.family);
    });
  };
}
