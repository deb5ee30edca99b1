/**
 * RFC 3263 4: from a SIP or SIPS URI to the ordered list of (transport, address, port) targets
 * a request may be sent to; a client transaction tries them in turn (RFC 3263 4.3, see
 * failover-client-transaction.ts). docs/edge-transport.md §3 describes the steps.
 */
import net from 'node:net';
import type { Logger } from '../../log/logger.ts';
import type { Target, TransportName } from '../sip/transport.ts';
import { parseUri } from '../sip/uri.ts';
import type { DnsClient, NaptrRecord } from './dns-client.ts';
import { orderSrv } from './srv-order.ts';

/** NAPTR services (RFC 3263 4.1) and SRV prefixes (4.2) of the transports the edge speaks. */
const NAPTR_SERVICES: Readonly<Record<string, TransportName>> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };
const SRV_PREFIX: Readonly<Record<TransportName, string>> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

export interface ResolveOptions {
  /**
   * transport when the URI names none and DNS is not asked (an IP literal, or a port): the
   * dialog's transport for in-dialog requests; default UDP (RFC 3263 4.1).
   */
  fallbackTransport?: TransportName;
}

export class SipResolver {
  constructor(
    private readonly dns: DnsClient,
    private readonly logger: Logger,
    /** RFC 2782 weighted selection; injectable for tests */
    private readonly random: () => number = Math.random,
  ) {}

  /** The most preferred target only (ACKs and in-dialog requests, which are not failed over). */
  async first(uri: string, fallbackTransport?: TransportName): Promise<Target> {
    const [t] = await this.resolve(uri, fallbackTransport ? { fallbackTransport } : {});
    if (!t) throw new Error(`no target for ${uri}`);
    return t;
  }

  /** Every target for uri, most preferred first; rejects when none can be found. */
  async resolve(uri: string, opts: ResolveOptions = {}): Promise<Target[]> {
    const u = parseUri(uri);
    if (!u || u.scheme === 'tel') throw new Error(`cannot route to URI ${uri}`);
    const secure = u.scheme === 'sips';
    const param = u.params.get('transport')?.toLowerCase();
    let transport: TransportName | undefined;
    if (param === 'udp' || param === 'tcp' || param === 'tls') transport = param;
    else if (param !== undefined && param !== null) throw new Error(`unsupported transport ${param}`);
    // RFC 3261 26.2.2: a SIPS URI is reached over TLS whatever the transport parameter says (tcp).
    if (secure) transport = 'tls';
    const host = u.host.startsWith('[') ? u.host.slice(1, -1) : u.host;
    const name = net.isIP(host) ? undefined : host;

    // 4.1: a numeric host, or an explicit port, needs no NAPTR or SRV.
    if (!name || u.port !== undefined) {
      const t = transport ?? opts.fallbackTransport ?? 'udp';
      const port = u.port ?? defaultPort(t);
      const addresses = name ? await this.addressesOf(name) : [host];
      return addresses.map((address) => withName({ transport: t, address, port }, name ?? host));
    }
    const targets = transport ? await this.viaSrv(name, [transport]) : await this.viaNaptr(name, secure);
    if (targets.length > 0) return dedupe(targets);
    // 4.2: no SRV: A/AAAA of the host itself, on the transport's default port.
    const t = transport ?? 'udp';
    const addresses = await this.addressesOf(name);
    return addresses.map((address) => withName({ transport: t, address, port: defaultPort(t) }, name));
  }

  /** 4.1: NAPTR records of the transports we speak, by order then preference; without any, SRV for each. */
  private async viaNaptr(name: string, secure: boolean): Promise<Target[]> {
    const naptr = await this.soft(() => this.dns.naptr(name), `NAPTR ${name}`);
    const usable = naptr
      .filter((r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICES[r.service.toUpperCase()] !== undefined)
      .filter((r) => !secure || NAPTR_SERVICES[r.service.toUpperCase()] === 'tls')
      .sort(byNaptrPreference);
    if (usable.length > 0) {
      const out: Target[] = [];
      for (const r of usable) {
        const t = NAPTR_SERVICES[r.service.toUpperCase()];
        if (t) out.push(...(await this.srvTargets(r.replacement.replace(/\.$/, ''), t, name)));
      }
      return out;
    }
    return this.viaSrv(name, secure ? ['tls'] : ['udp', 'tcp', 'tls']);
  }

  /** 4.2: SRV for each transport (asked at once, kept in the given order), the records of each in RFC 2782 order. */
  private async viaSrv(name: string, transports: readonly TransportName[]): Promise<Target[]> {
    const each = await Promise.all(transports.map((t) => this.srvTargets(`${SRV_PREFIX[t]}${name}`, t, name)));
    return each.flat();
  }

  private async srvTargets(srvName: string, transport: TransportName, domain: string): Promise<Target[]> {
    const records = orderSrv(await this.soft(() => this.dns.srv(srvName), `SRV ${srvName}`), this.random);
    const out: Target[] = [];
    for (const r of records) {
      const target = r.target.replace(/\.$/, '');
      const addresses = net.isIP(target) ? [target] : await this.soft(() => this.dns.addresses(target), `A/AAAA ${target}`);
      // RFC 5922 4.1: a TLS peer found through SRV must still prove the URI's domain.
      for (const address of addresses) out.push(withName({ transport, address, port: r.port }, domain));
    }
    return out;
  }

  private async addressesOf(name: string): Promise<string[]> {
    const a = await this.dns.addresses(name);
    if (a.records.length === 0) throw new Error(`no address for ${name}`);
    return a.records;
  }

  /** NAPTR and SRV are optional steps: a failing lookup means "none", and resolution goes on. */
  private async soft<T>(ask: () => Promise<{ records: T[] }>, what: string): Promise<T[]> {
    try {
      return (await ask()).records;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, query: what }, 'dns query failed');
      return [];
    }
  }
}

function byNaptrPreference(a: NaptrRecord, b: NaptrRecord): number {
  return a.order - b.order || a.preference - b.preference;
}

function defaultPort(t: TransportName): number {
  return t === 'tls' ? 5061 : 5060;
}

function withName(t: Target, name: string): Target {
  return t.transport === 'tls' ? { ...t, serverName: name } : t;
}

function dedupe(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const k = `${t.transport}|${t.address}|${t.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
