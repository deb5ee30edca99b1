import ipaddr from 'ipaddr.js';

/**
 * Which source addresses may place calls (docs/routing.md §1): a list of CIDRs, parsed once.
 * IPv4-mapped IPv6 sources (::ffff:127.0.0.1) are matched as the IPv4 address they carry.
 */
export class SourcePolicy {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map((c) => {
      const text = c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`;
      try {
        return ipaddr.parseCIDR(text);
      } catch {
        throw new Error(`trusted source ${JSON.stringify(c)} is not an IP address or CIDR`);
      }
    });
  }

  isTrusted(address: string): boolean {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.process(address);
    } catch {
      return false;
    }
    return this.ranges.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits));
  }
}
