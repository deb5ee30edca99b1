/**
 * The transaction layer (RFC 3261 17): matches incoming messages to transactions (17.1.3,
 * 17.2.3), creates server transactions for new requests, and starts client transactions.
 */
import { MAGIC_COOKIE, newBranch } from '../sip-identity.ts';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../../log/logger.ts';
import { formatVia, parseCSeq, parseVia, tagOf, viaParam } from '../sip/header-values.ts';
import type { Via } from '../sip/header-values.ts';
import { addHeader, cloneMessage, getHeader, hasHeader, serializeMessage, setTopVia } from '../sip/message.ts';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.ts';
import type { Flow, Target } from '../sip/transport.ts';
import { ClientInviteTransaction } from './client-invite-transaction.ts';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.ts';
import { FailoverClientTransaction } from './failover-client-transaction.ts';
import { ServerInviteTransaction } from './server-invite-transaction.ts';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.ts';
import { deriveTimers, realClock } from './timers.ts';
import { LingerQueue } from './linger-queue.ts';
import { ownString } from '../../sip/own-string.ts';
import type { Clock, TimerConfig } from './timers.ts';
import type { TransactionContext } from './transaction-context.ts';
import type { ClientTransaction, ServerTransaction } from './transaction-types.ts';

export type { ClientTransaction, ServerTransaction, ClientTransactionEvents, ServerTransactionEvents } from './transaction-types.ts';

/** What the layer needs from a transport; SipTransport provides it, tests fake it. */
export interface TransportPort {
  /** tlsPort: where the TLS listener is, when there is one */
  readonly advertised: { host: string; port: number; tlsPort?: number };
  send(data: Buffer, target: Target): Promise<void>;
  on(event: 'message', listener: (msg: SipMessage, flow: Flow) => void): unknown;
  off(event: 'message', listener: (msg: SipMessage, flow: Flow) => void): unknown;
}

export interface TransactionLayerEvents {
  /** a new request; txn is undefined for ACK (an ACK for a 2xx is its own transaction) */
  request: [req: SipRequest, txn: ServerTransaction | undefined, flow: Flow];
  /** a CANCEL (17.2.3), with the INVITE transaction it cancels if one matches; not answered by the layer */
  cancel: [cancel: SipRequest, cancelTxn: ServerTransaction, inviteTxn: ServerTransaction | undefined, flow: Flow];
  /** a response matching no client transaction */
  'stray-response': [res: SipResponse, flow: Flow];
}

type ServerTxn = ServerInviteTransaction | ServerNonInviteTransaction;
type ClientTxn = ClientInviteTransaction | ClientNonInviteTransaction;

export class TransactionLayer extends EventEmitter<TransactionLayerEvents> {
  private readonly transport: TransportPort;
  private readonly ctx: TransactionContext;
  private readonly clients = new Map<string, ClientTxn>();
  private readonly servers = new Map<string, ServerTxn>();
  private readonly lingering: LingerQueue;
  private readonly onMessage = (msg: SipMessage, flow: Flow): void => this.receive(msg, flow);
  private closed = false;

  constructor(opts: { transport: TransportPort; timers: TimerConfig; clock?: Clock; logger: Logger }) {
    super();
    this.transport = opts.transport;
    const clock = opts.clock ?? realClock;
    const lingering = (this.lingering = new LingerQueue(clock));
    this.ctx = {
      timers: deriveTimers(opts.timers),
      clock,
      logger: opts.logger,
      send: (data, target) => this.transport.send(data, target),
      ended: (txn) => this.forget(txn),
      linger: (txn, ms) => lingering.add(txn, ms),
    };
    this.transport.on('message', this.onMessage);
  }

  /**
   * Starts a client transaction. Adds our Via on top (`SIP/2.0/UDP|TCP|TLS host:port;rport;branch=...`)
   * and Max-Forwards: 70 when absent (8.1.1.6). The caller's request object is not modified.
   * With several targets (one RFC 3263 resolution) a failed attempt moves on to the next target
   * in a new client transaction (RFC 3263 4.3, failover-client-transaction.ts).
   */
  sendRequest(req: SipRequest, target: Target | readonly Target[]): ClientTransaction {
    const targets: readonly Target[] = isTargetList(target) ? target : [target];
    const first = targets[0];
    if (!first) throw new Error('no target to send to');
    if (targets.length === 1) return this.startAttempt(req, first);
    return new FailoverClientTransaction({ targets, start: (t) => this.startAttempt(req, t), logger: this.ctx.logger });
  }

  private startAttempt(req: SipRequest, target: Target): ClientTxn {
    const request = cloneMessage(req);
    const branch = newBranch();
    addHeader(request, 'Via', this.ourVia(target, branch), 'top');
    if (!hasHeader(request, 'max-forwards')) addHeader(request, 'Max-Forwards', '70');
    return this.startClient(request, target, branch);
  }

  /** Stateless send: the ACK for a 2xx (its own transaction), or a response without a transaction. */
  sendStateless(msg: SipMessage, target: Target): Promise<void> {
    return this.transport.send(serializeMessage(msg), target);
  }

  /** Sends bytes as they are (2xx retransmissions). */
  sendRaw(data: Buffer, target: Target): Promise<void> {
    return this.transport.send(data, target);
  }

  /** Our Via value for a request sent to target with the given branch. */
  ourVia(target: Target, branch: string): string {
    const { host, port, tlsPort } = this.transport.advertised;
    const h = net.isIPv6(host) ? `[${host}]` : host;
    // RFC 3261 18.2.2: over TLS a response that cannot use the connection goes to sent-by over TLS.
    const p = target.transport === 'tls' ? (tlsPort ?? port) : port;
    return `SIP/2.0/${target.transport.toUpperCase()} ${h}:${p};rport;branch=${branch}`;
  }

  /**
   * Where a response goes (RFC 3261 18.2.2, RFC 3581 4); see docs/edge-transport.md §4. Over a
   * connection (TCP, TLS): back over the connection the request came on. Over UDP: always to the
   * packet's source address (what `received` says once stampReceived has run, and never what the
   * sender wrote there itself), to the source port when the Via asks for rport, else to the sent-by
   * port (5060 by default). maddr is not followed: it would let any sender aim our answers at a
   * third party.
   */
  responseTarget(req: SipRequest, flow: Flow): Target {
    if (flow.transport !== 'udp') return { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort };
    const via = parseVia(getHeader(req, 'via') ?? '');
    if (!via || via.params.has('rport')) return { transport: 'udp', address: flow.remoteAddress, port: flow.remotePort };
    return { transport: 'udp', address: flow.remoteAddress, port: via.port ?? 5060 };
  }

  /** 18.2.1 / RFC 3581 4 for a request answered outside a transaction (a 400 for a malformed one). */
  stampReceived(req: SipRequest, flow: Flow): void {
    const via = parseVia(getHeader(req, 'via') ?? '');
    if (via) stampReceived(req, via, flow);
  }

  /** Stops every transaction timer; no more events are emitted. */
  close(): void {
    this.closed = true;
    this.transport.off('message', this.onMessage);
    this.lingering.clear();
    for (const t of this.clients.values()) t.dispose();
    for (const t of this.servers.values()) t.dispose();
    this.clients.clear();
    this.servers.clear();
  }

  /** Number of live transactions (for tests and metrics). */
  get size(): { clients: number; servers: number; lingering: number } {
    return { clients: this.clients.size, servers: this.servers.size, lingering: this.lingering.size };
  }

  private startClient(request: SipRequest, target: Target, branch: string): ClientTxn {
    const id = `${branch}|${request.method}`;
    const txn: ClientTxn =
      request.method === 'INVITE'
        ? new ClientInviteTransaction({ id, request, target, ctx: this.ctx, startCancel: (c) => this.startClient(c, target, branch) })
        : new ClientNonInviteTransaction({ id, request, target, ctx: this.ctx });
    this.clients.set(id, txn);
    txn.start();
    return txn;
  }

  /** A transaction terminated (TransactionContext.ended): it leaves its map. */
  private forget(txn: { readonly id: string }): void {
    if (this.clients.get(txn.id) === txn) this.clients.delete(txn.id);
    else if (this.servers.get(txn.id) === txn) this.servers.delete(txn.id);
  }

  private receive(msg: SipMessage, flow: Flow): void {
    if (this.closed) return;
    if (msg.kind === 'response') this.receiveResponse(msg, flow);
    else this.receiveRequest(msg, flow);
  }

  /** 17.1.3: a response matches the client transaction with its top Via branch and CSeq method. */
  private receiveResponse(res: SipResponse, flow: Flow): void {
    const branch = viaParam(getHeader(res, 'via') ?? '', 'branch');
    const method = parseCSeq(getHeader(res, 'cseq') ?? '')?.method;
    const txn = branch && method ? this.clients.get(`${branch}|${method}`) : undefined;
    if (txn) txn.receiveResponse(res);
    else this.emit('stray-response', res, flow);
  }

  private receiveRequest(req: SipRequest, flow: Flow): void {
    const via = parseVia(getHeader(req, 'via') ?? '');
    if (!via) return; // the parser refuses these; never reached in practice
    stampReceived(req, via, flow);
    const key = (method: string): string => serverKey(req, via, method);

    if (req.method === 'ACK') {
      // 17.2.3: an ACK matches the INVITE transaction; absorbed when it acknowledges a non-2xx final.
      const invite = this.servers.get(key('INVITE'));
      if (invite instanceof ServerInviteTransaction && invite.receiveAck()) return;
      this.emit('request', req, undefined, flow);
      return;
    }
    const existing = this.servers.get(key(req.method));
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    // the key outlives the request (64*T1): a flat string of its own, not pieces of the Via's text
    const id = ownString(key(req.method));
    const opts = { id, request: req, flow, target: this.responseTarget(req, flow), ctx: this.ctx };
    const txn: ServerTxn = req.method === 'INVITE' ? new ServerInviteTransaction(opts) : new ServerNonInviteTransaction(opts);
    this.servers.set(id, txn);
    if (txn instanceof ServerInviteTransaction) txn.start();
    if (req.method === 'CANCEL') {
      // 17.2.3 / 9.2: the CANCEL matches the INVITE transaction with the same branch and sent-by.
      this.emit('cancel', req, txn, this.servers.get(key('INVITE')), flow);
      return;
    }
    this.emit('request', req, txn, flow);
  }
}

function isTargetList(t: Target | readonly Target[]): t is readonly Target[] {
  return Array.isArray(t);
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/**
 * 17.2.3 matching key: branch + sent-by + method (ACK counts as INVITE). Requests from RFC 2543
 * clients (no magic cookie) fall back to Call-ID, From tag, CSeq number and the whole top Via.
 */
function serverKey(req: SipRequest, via: Via, method: string): string {
  const m = method === 'ACK' ? 'INVITE' : method;
  const branch = via.params.get('branch');
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? 5060}`;
  if (branch && branch.startsWith(MAGIC_COOKIE)) return `${branch}|${sentBy}|${m}`;
  const seq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
  return `2543|${getHeader(req, 'call-id') ?? ''}|${tagOf(getHeader(req, 'from')) ?? ''}|${seq}|${sentBy}|${branch ?? ''}|${m}`;
}

/**
 * 18.2.1 / RFC 3581 4: note where the request really came from in its top Via, so responses
 * find their way back through NATs. A `received` or `rport` value the sender wrote itself is
 * replaced (or dropped), never believed: responses follow the packet, not the claim.
 */
function stampReceived(req: SipRequest, via: Via, flow: Flow): void {
  const host = stripBrackets(via.host);
  const before = formatVia(via);
  via.params.delete('received');
  if (via.params.has('rport')) {
    // RFC 3581 4: rport gets the source port, and received is added even when it equals sent-by.
    via.params.set('rport', String(flow.remotePort));
    via.params.set('received', flow.remoteAddress);
  } else if (host !== flow.remoteAddress) {
    via.params.set('received', flow.remoteAddress);
  }
  const after = formatVia(via);
  if (after !== before) setTopVia(req, after);
}
