/**
 * Composition root of the embedded SIP edge: SIP over UDP and TCP on one side, the drachtio wire
 * protocol for drachtio-srf applications on the other. Nothing here knows about call routing.
 */
import type { Logger } from '../log/logger.ts';
import { resolverFromConfig } from './dns/resolver-from-config.ts';
import { loadTlsFiles } from './sip/tls-files.ts';
import { SipTransport } from './sip/transport.ts';
import { answerMalformed } from './transaction/malformed-responder.ts';
import { TransactionLayer } from './transaction/transaction-layer.ts';
import { realClock, type Clock } from './transaction/timers.ts';
import { SipRelay } from './sip-relay.ts';
import { AppRegistry } from './wire/app-registry.ts';
import { WireServer } from './wire/wire-server.ts';
import { sameThreadLink, type WireLink } from './wire/wire-link.ts';
import { UntrustedGate, type UntrustedPolicy } from './untrusted-gate.ts';

export interface EdgeOptions {
  sip: {
    host: string;
    port: number;
    t1Ms: number;
    t2Ms: number;
    t4Ms: number;
    maxMessageBytes: number;
    /** TLS listener (when cert and key are set) and extra CA file; docs/edge-transport.md §2 */
    tlsPort?: number;
    tlsCert?: string;
    tlsKey?: string;
    tlsCa?: string;
    /** ip[:port] name servers for RFC 3263 lookups (empty: the system's) */
    dnsServers?: readonly string[];
  };
  wire: { host: string; port: number; secret: string };
  logger: Logger;
  /** time source of every SIP timer (tests pass a fake one) */
  clock?: Clock;
  /** new INVITEs from elsewhere are refused before any transaction (docs/edge.md §8); default: trust all */
  untrusted?: UntrustedPolicy;
}

export interface RunningEdge {
  /** where SIP peers reach the edge (the advertised address when bound to a wildcard); tlsPort with a TLS listener */
  sipAddress: { host: string; port: number; tlsPort?: number };
  /** where drachtio-srf applications connect */
  wireAddress: { host: string; port: number };
  /** an srf application in this thread attaches here instead of over TCP (docs/performance.md §2) */
  link: WireLink;
  /** Live state: transactions, dialogs and relay records (all return to 0 once calls and timers end). */
  stats(): EdgeStats;
  close(): Promise<void>;
}

export interface EdgeStats {
  clientTransactions: number;
  serverTransactions: number;
  dialogs: number;
  /** requests from the network an app has not finished with, and requests apps sent */
  inbound: number;
  outbound: number;
  /** UAS 2xx awaiting their ACK */
  retransmitters: number;
  /** ids of cancelled INVITEs kept for 64*T1 to refuse a late answer */
  cancelled: number;
}

export async function startEdge(opts: EdgeOptions): Promise<RunningEdge> {
  if (opts.wire.secret === '') throw new Error('the edge needs a non-empty wire secret');
  const logger = opts.logger.child({ component: 'edge' });
  const timers = { t1: opts.sip.t1Ms, t2: opts.sip.t2Ms, t4: opts.sip.t4Ms };
  const tls = loadTlsFiles(opts.sip);
  const resolver = resolverFromConfig(opts.sip.dnsServers ?? [], logger);
  const transport = new SipTransport({ host: opts.sip.host, port: opts.sip.port, maxMessageBytes: opts.sip.maxMessageBytes, logger, tls });
  await transport.listen();
  const clock = opts.clock ?? realClock;
  // The gate answers with the layer's response addressing (RFC 3261 18.2.2); the layer sits on the gate.
  const ref: { layer?: TransactionLayer } = {};
  const gate = new UntrustedGate(transport, opts.untrusted ?? { trustedSources: [], action: 'reject' }, logger, (req, flow) => ref.layer!.responseTarget(req, flow));
  const layer = new TransactionLayer({ transport: gate, timers, clock, logger });
  ref.layer = layer;
  const registry = new AppRegistry();
  const relay = new SipRelay({ layer, registry, timers, clock, local: () => transport.advertised, logger, resolver });

  // RFC 3261 8.2 / 16.3 / 21.5.20: a request the parser refused gets 400 (413, 505) when it can be
  // answered; responses and ACKs are dropped (docs/edge-transport.md §5).
  transport.on('malformed', (reason, flow, partial, status) => answerMalformed(layer, logger, reason, flow, partial, status));

  const wire = new WireServer({
    host: opts.wire.host,
    port: opts.wire.port,
    secret: opts.wire.secret,
    registry,
    logger,
    sipHostports: () => {
      // drachtio-server lists each transport it listens on, `tls/host:port` included.
      const a = transport.advertised;
      const tlsListener = a.tlsPort !== undefined ? `,tls/${a.host}:${a.tlsPort}` : '';
      return `udp/${a.host}:${a.port},tcp/${a.host}:${a.port}${tlsListener}`;
    },
    onSipCommand: (app, msg) => relay.handleAppSip(app, msg),
    onProxyCommand: (app, msg) => relay.handleAppProxy(app, msg),
  });
  let wireAddress;
  try {
    wireAddress = await wire.listen();
  } catch (err) {
    layer.close();
    await transport.close();
    throw err;
  }
  const sipAddress = transport.advertised;
  logger.info({ sip: sipAddress, wire: wireAddress }, 'edge listening');
  let closing: Promise<void> | undefined;
  return {
    sipAddress,
    wireAddress,
    link: sameThreadLink((out, onClosed) => wire.attachLink(out, onClosed)),
    stats() {
      const t = layer.size;
      const r = relay.size;
      return { clientTransactions: t.clients, serverTransactions: t.servers, ...r };
    },
    close() {
      closing ??= (async () => {
        await wire.close();
        relay.close();
        layer.close();
        await transport.close();
        logger.info('edge closed');
      })();
      return closing;
    },
  };
}
