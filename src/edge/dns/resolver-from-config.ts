/** The edge's RFC 3263 resolver: OUTDIAL_DNS_SERVERS when set, else the system's (docs/edge-transport.md §3). */
import type { Logger } from '../../log/logger.ts';
import { CachingDnsClient, type CacheClock } from './dns-cache.ts';
import { PacketDnsClient, parseDnsServer, type DnsServer } from './dns-client.ts';
import { SipResolver } from './sip-resolver.ts';
import { SystemDnsClient } from './system-dns-client.ts';

export function resolverFromConfig(dnsServers: readonly string[], logger: Logger, clock?: CacheClock): SipResolver {
  const servers: DnsServer[] = [];
  for (const text of dnsServers) {
    const s = parseDnsServer(text);
    if (!s) throw new Error(`OUTDIAL_DNS_SERVERS: ${JSON.stringify(text)} is not ip[:port]`);
    servers.push(s);
  }
  const client = servers.length > 0 ? new PacketDnsClient(servers) : new SystemDnsClient();
  return new SipResolver(new CachingDnsClient(client, clock), logger);
}
