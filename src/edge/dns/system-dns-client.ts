/**
 * The resolver used when OUTDIAL_DNS_SERVERS is empty: NAPTR and SRV go to the system's name
 * servers (resolv.conf, as node:dns reads it), A/AAAA go through the system resolver
 * (getaddrinfo: /etc/hosts first), as any other program on the machine would resolve a host.
 * getaddrinfo tells no TTL, so those answers are not kept (ttl 0). `localhost` never reaches DNS
 * (RFC 6761 6.3).
 */
import dns from 'node:dns';
import type { DnsAnswer, DnsClient, NaptrRecord, SrvRecord } from './dns-client.ts';
import { PacketDnsClient, parseDnsServer, type DnsServer } from './dns-client.ts';

const NONE = { records: [], ttl: 0 };

export class SystemDnsClient implements DnsClient {
  private packets: PacketDnsClient | undefined;

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    if (isLocalhost(name)) return Promise.resolve(NONE);
    return this.client()?.naptr(name) ?? Promise.resolve(NONE);
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    if (isLocalhost(name.replace(/^_[^.]+\._[^.]+\./, ''))) return Promise.resolve(NONE);
    return this.client()?.srv(name) ?? Promise.resolve(NONE);
  }

  async addresses(name: string): Promise<DnsAnswer<string>> {
    if (isLocalhost(name)) return { records: ['127.0.0.1'], ttl: 0 };
    const found = await dns.promises.lookup(name, { all: true });
    return { records: found.map((a) => a.address), ttl: 0 };
  }

  private client(): PacketDnsClient | undefined {
    if (this.packets) return this.packets;
    const servers = dns.getServers().map(parseDnsServer).filter((s): s is DnsServer => s !== undefined);
    if (servers.length === 0) return undefined;
    this.packets = new PacketDnsClient(servers);
    return this.packets;
  }
}

function isLocalhost(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost');
}
