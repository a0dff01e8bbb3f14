import { Address6 } from 'ip-address';

/**
 * Whom per-address limits and an anonymous session's queue share count as one client: an IPv4
 * address as it is; an IPv6 address by its /64, which one subscriber usually holds whole (so a
 * /64 is not an endless supply of addresses); an IPv4-mapped IPv6 address as its IPv4 address.
 */
export function clientKey(ip: string): string {
  if (!Address6.isValid(ip)) return ip;
  const address = new Address6(ip);
  if (address.is4()) return address.to4().correctForm();
  return `${new Address6(`${address.correctForm()}/64`).startAddress().correctForm()}/64`;
}
