/**
 * The relay alone under the fake clock: a fake transport in place of the network, fake
 * applications that record the wire frames the relay writes, and helpers to write what srf
 * would send. Everything runs synchronously except the relay's own promise chains (flush()).
 */
import { resolverFromConfig } from '../../src/edge/dns/resolver-from-config.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { SipRelay } from '../../src/edge/sip-relay.ts';
import { TransactionLayer } from '../../src/edge/transaction/transaction-layer.ts';
import { AppRegistry, type AppConnection } from '../../src/edge/wire/app-registry.ts';
import { parseWirePayload, type WirePayload } from '../../src/edge/wire/wire-message.ts';
import { parseMessage } from '../../src/edge/sip/parser.ts';
import type { SipMessage } from '../../src/edge/sip/message.ts';
import { ManualClock } from './manual-clock.ts';
import { FakeTransport, flush, UDP_FLOW } from './fake-transport.ts';

export const BENCH_TIMERS = { t1: 100, t2: 400, t4: 500 };

export class FakeApp implements AppConnection {
  readonly frames: WirePayload[] = [];
  closed = false;
  tags = '';
  constructor(
    readonly id: string,
    readonly remote = '127.0.0.1:40000',
  ) {}
  send(payload: string): void {
    if (this.closed) return;
    const p = parseWirePayload(payload);
    if (p) this.frames.push(p);
  }
  /** `sip|network|...` frames, parsed */
  network(): Array<{ frame: WirePayload; msg: SipMessage; txnId: string; dialogId: string }> {
    return this.frames
      .filter((f) => f.command === 'sip')
      .map((f) => ({ frame: f, msg: parseSip(f.sip ?? ''), txnId: f.args[6] ?? '', dialogId: f.args[7] ?? '' }));
  }
  /** replies (`response|<msgId>|OK|...`) to a command */
  replies(msgId: string): WirePayload[] {
    return this.frames.filter((f) => f.command === 'response' && f.args[0] === msgId);
  }
}

function parseSip(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text), 1 << 20);
  if (!r.ok) throw new Error(`not SIP: ${r.reason}`);
  return r.message;
}

export interface RelayBench {
  clock: ManualClock;
  transport: FakeTransport;
  layer: TransactionLayer;
  registry: AppRegistry;
  relay: SipRelay;
  logs: ReturnType<typeof createCapturingLogger>;
  app(id?: string, methods?: string[]): FakeApp;
  /** the app sends a `sip` command */
  appSends(app: FakeApp, args: string[], sip: string): Promise<string>;
  /** lets the relay's promise chains run */
  settle(): Promise<void>;
}

let msgSeq = 0;

export function startRelayBench(timers = BENCH_TIMERS): RelayBench {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock);
  const logs = createCapturingLogger('debug');
  const layer = new TransactionLayer({ transport, timers, clock, logger: logs.logger });
  const registry = new AppRegistry();
  // IP-literal targets only: the resolver answers them without DNS.
  const resolver = resolverFromConfig([], logs.logger);
  const relay = new SipRelay({ layer, registry, timers, clock, local: () => transport.advertised, logger: logs.logger, resolver });
  return {
    clock,
    transport,
    layer,
    registry,
    relay,
    logs,
    app(id = 'app-1', methods = ['invite']) {
      const a = new FakeApp(id);
      registry.add(a);
      for (const m of methods) registry.addRoute(a, m);
      return a;
    },
    async appSends(app, args, sip) {
      const msgId = `m${++msgSeq}`;
      relay.handleAppSip(app, { msgId, command: 'sip', args, sip });
      await settle();
      return msgId;
    },
    settle,
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flush();
    await new Promise((r) => setImmediate(r));
  }
}

export { UDP_FLOW };

/** A request from the peer at UDP_FLOW (192.0.2.20:5070) to the edge. */
export function peerRequest(method: string, o: { branch: string; callId: string; fromTag?: string; toTag?: string; cseq?: number; extra?: string[]; body?: string; cseqMethod?: string }): string {
  const body = o.body ?? '';
  return [
    `${method} sip:svc@192.0.2.10 SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.20:5070;branch=${o.branch}`,
    `From: <sip:caller@192.0.2.20>;tag=${o.fromTag ?? 'peer1'}`,
    `To: <sip:svc@192.0.2.10>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    'Contact: <sip:caller@192.0.2.20:5070>',
    'Max-Forwards: 70',
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
