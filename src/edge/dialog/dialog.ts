/**
 * One dialog as the edge keeps it (RFC 3261 12, RFC 6665 4.1.2 for SUBSCRIBE): identity, route
 * set, remote target and CSeq spaces, and the state that lives exactly as long as the dialog —
 * its 2xx retransmitter, the last ACK it sent, its reliable provisionals (RFC 3262) and the order
 * of its deliveries to the application. The id is drachtio's:
 * `<Call-ID>;from-tag=<From tag of the dialog-creating request>`, for UAC and UAS dialogs alike.
 */
import { getHeader, getHeaders, nameAddrUri, parseCSeq, tagOf, type SipRequest, type SipResponse } from '../sip/message.ts';
import type { Flow, Target, TransportName } from '../sip/transport.ts';
import type { Clock } from '../transaction/timers.ts';
import type { Uas2xxRetransmitter } from '../transaction/uas-2xx-retransmitter.ts';
import { dropStackOwnedHeaders, localizeAppHeaders } from '../uac-request-builder.ts';
import { edgeContact, looksLikeSdp, newBranch, hostport, type EdgeSipAddress } from '../sip-identity.ts';
import { ownString } from '../../sip/own-string.ts';
import { DeliveryOrder } from './delivery-order.ts';
import { ReliableProvisionals } from './reliable-provisionals.ts';

/**
 * early:       a 1xx with a To tag was sent (UAS) or received (UAC) (12.1)
 * accepted:    2xx sent (UAS) or received (UAC), ACK not yet seen/sent
 * confirmed:   ACK exchanged (13.2.2.4, 13.3.1.4); a SUBSCRIBE dialog starts here
 * terminating: the app sent BYE (or a final NOTIFY); the dialog stays usable until that
 *              transaction ends, so a challenged BYE can be sent again with credentials
 * terminated:  BYE done or received, ACK timeout, subscription terminated
 */
export type DialogState = 'early' | 'accepted' | 'confirmed' | 'terminating' | 'terminated';

const TRANSITIONS: Readonly<Record<DialogState, readonly DialogState[]>> = {
  early: ['accepted', 'terminated'],
  accepted: ['confirmed', 'terminating', 'terminated'],
  // a re-INVITE's 2xx puts the dialog back to waiting for that ACK
  confirmed: ['accepted', 'terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
};

/** How long a 2xx echo and the in-dialog deliveries behind it are kept apart (docs/edge.md §4.3: 10 ms lost events on a loaded machine). */
export const ECHO_SETTLE_MS = 50;

export type DialogRole = 'uac' | 'uas';

export function dialogIdOf(callId: string, inviteFromTag: string): string {
  // flat: a concatenation of slices would keep the whole header block for as long as the id lives
  // (a relay record's id lingers 64*T1, docs/performance.md §15)
  return ownString(`${callId};from-tag=${inviteFromTag}`);
}

/** Methods whose requests carry our Contact (target refresh, RFC 3261 12.2.1.1). */
const CONTACT_METHODS = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export interface DialogInit {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (UAC) or To (UAS) with our tag */
  localNameAddr: string;
  /** To (UAC) or From (UAS) with the peer's tag */
  remoteNameAddr: string;
  localCSeq: number;
  remoteCSeq?: number;
  routeSet: string[];
  remoteTarget: string;
  localContact: string;
  transport: TransportName;
  /** UAS: the flow the INVITE arrived on (TCP dialogs keep using that connection) */
  flow?: Flow;
  ownerAppId: string;
  /** the wire transaction id of the INVITE (the app's ACK event carries it) */
  inviteWireTxnId: string;
  /** CSeq number of the INVITE whose 2xx awaits an ACK */
  ackCSeq: number;
  /** INVITE (default) or SUBSCRIBE (RFC 6665) */
  kind?: 'INVITE' | 'SUBSCRIBE';
  /** the srf tags of the owning application (another app with the same tags may take over) */
  ownerTags?: string;
  /** default: 'accepted' for INVITE, 'confirmed' for SUBSCRIBE */
  initialState?: DialogState;
}

/** What a dialog needs from its surroundings to run its own timers. */
export interface DialogEnvironment {
  clock: Clock;
  onError: (err: unknown) => void;
  /** the owner's link orders deliveries by event-loop turns: no time-based settle (docs/edge.md §4.3) */
  byTurns?: boolean;
}

export class Dialog {
  readonly id: string;
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localNameAddr: string;
  readonly remoteNameAddr: string;
  localCSeq: number;
  remoteCSeq: number | undefined;
  readonly routeSet: string[];
  remoteTarget: string;
  localContact: string;
  readonly transport: TransportName;
  readonly flow: Flow | undefined;
  readonly kind: 'INVITE' | 'SUBSCRIBE';
  /** the application that answers its requests; another may adopt it (docs/edge.md §5) */
  ownerAppId: string;
  ownerTags: string;
  inviteWireTxnId: string;
  ackCSeq: number;
  /**
   * Who owes the ACK for the latest 2xx to an INVITE (13.2.2.4, 13.3.1.4): the network peer when
   * the edge sent that 2xx, the application when the edge received it. It follows the direction
   * of each (re-)INVITE transaction, not the dialog's role: a callee may re-INVITE too.
   */
  ackFrom: 'network' | 'app';
  /** UAS: the 2xx retransmission until the ACK (13.3.1.4) */
  retransmitter: Uas2xxRetransmitter | undefined;
  /**
   * UAC: the ACK last sent and where, re-sent for a retransmitted 2xx (13.2.2.4). Its bytes are
   * kept as a latin1 string, one character per byte: a Buffer would add its own object, its
   * ArrayBuffer and a backing store outside the heap to every held call (docs/performance.md §9).
   */
  lastAck: { latin1: string; target: Target; cseq: number } | undefined;
  /**
   * The delivery order and the RFC 3262 state are made when first used: most dialogs never
   * send or receive a reliable provisional, and a held call keeps neither (docs/performance.md §9).
   */
  private deliveryOrder: DeliveryOrder | undefined;
  private reliableState: ReliableProvisionals | undefined;
  private readonly env: DialogEnvironment;
  /** BYE/NOTIFY transactions the app has running in a terminating dialog */
  closingRequests = 0;
  private closingTimer: unknown;
  private readonly clock: Clock;
  private _state: DialogState;

  constructor(init: DialogInit, env: DialogEnvironment) {
    // A dialog outlives the messages that made it: its strings are copied out of them, so it does
    // not keep whole datagrams reachable (lingering-state.ts).
    this.callId = ownString(init.callId);
    this.localTag = ownString(init.localTag);
    this.remoteTag = ownString(init.remoteTag);
    this.id = dialogIdOf(this.callId, init.role === 'uac' ? this.localTag : this.remoteTag);
    this.role = init.role;
    this.localNameAddr = ownString(init.localNameAddr);
    this.remoteNameAddr = ownString(init.remoteNameAddr);
    this.localCSeq = init.localCSeq;
    this.remoteCSeq = init.remoteCSeq;
    this.routeSet = init.routeSet.map(ownString);
    this.remoteTarget = ownString(init.remoteTarget);
    this.localContact = ownString(init.localContact);
    this.transport = init.transport;
    this.flow = init.flow;
    this.ownerAppId = init.ownerAppId;
    this.inviteWireTxnId = init.inviteWireTxnId;
    this.ackCSeq = init.ackCSeq;
    this.ackFrom = init.role === 'uas' ? 'network' : 'app';
    this.kind = init.kind ?? 'INVITE';
    this.ownerTags = init.ownerTags ?? '';
    this._state = init.initialState ?? (this.kind === 'SUBSCRIBE' ? 'confirmed' : 'accepted');
    this.clock = env.clock;
    this.env = env;
    this.retransmitter = undefined;
    this.lastAck = undefined;
  }

  /** deliveries to the application, kept behind the 2xx echo */
  get delivery(): DeliveryOrder {
    return (this.deliveryOrder ??= new DeliveryOrder(this.env.clock, this.env.byTurns === true ? 0 : ECHO_SETTLE_MS, this.env.onError));
  }

  /** RFC 3262 state of this dialog's INVITE transaction */
  get reliable(): ReliableProvisionals {
    return (this.reliableState ??= new ReliableProvisionals(this.env.clock));
  }

  /** `go(true)` once a final response may go out (ReliableProvisionals#final): at once when no reliable provisional was ever sent. */
  whenFinalMaySend(go: (ok: boolean) => void, is2xx: boolean): void {
    if (this.reliableState === undefined) go(true);
    else this.reliableState.final(go, is2xx);
  }

  /** A final response went out: reliable provisionals stop (RFC 3262 §3). */
  stopReliable(): void {
    this.reliableState?.stop();
  }

  /**
   * The dialog ended: its SIP timers stop. Deliveries already queued for the app still go out in
   * order (the BYE that ended it is one of them).
   */
  stop(): void {
    this.retransmitter?.stop();
    this.retransmitter = undefined;
    this.lastAck = undefined;
    this.reliableState?.stop();
    this.stopClosingTimer();
  }

  /** The edge is closing: everything stops, queued deliveries included. */
  shutdown(): void {
    this.stop();
    this.deliveryOrder?.close();
  }

  /** Runs fn after `ms` on the dialog's clock unless the dialog is stopped first. */
  startClosingTimer(ms: number, fn: () => void): void {
    this.stopClosingTimer();
    this.closingTimer = this.clock.setTimeout(() => {
      this.closingTimer = undefined;
      fn();
    }, ms);
  }

  stopClosingTimer(): void {
    if (this.closingTimer !== undefined) this.clock.clearTimeout(this.closingTimer);
    this.closingTimer = undefined;
  }

  get state(): DialogState {
    return this._state;
  }

  get awaitingAck(): boolean {
    return this._state === 'accepted';
  }

  /** One transition function; illegal moves are refused (and reported to the caller). */
  transition(to: DialogState): boolean {
    if (this._state === to) return true;
    if (!TRANSITIONS[this._state].includes(to)) return false;
    this._state = to;
    return true;
  }

  /**
   * An in-dialog request from the peer (12.2.2): a CSeq lower than the last one is out of order.
   * Returns false when the request must be refused with 500.
   */
  acceptRemoteCSeq(req: SipRequest): boolean {
    const cseq = parseCSeq(getHeader(req, 'CSeq') ?? '');
    if (!cseq) return false;
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    if (this.remoteCSeq !== undefined && cseq.seq < this.remoteCSeq) return false;
    this.remoteCSeq = cseq.seq;
    return true;
  }

  /** A 2xx to a re-INVITE with a Contact refreshes the remote target (12.2.1.2, 12.2.2). */
  refreshTarget(msg: SipRequest | SipResponse): void {
    const contact = getHeaders(msg, 'Contact')[0];
    const uri = contact !== undefined ? nameAddrUri(contact) : undefined;
    if (uri) this.remoteTarget = ownString(uri);
  }

  /**
   * An in-dialog request from the application (12.2.1.1): `sip:placeholder` (or any URI) becomes
   * the remote target, the route set becomes Route, From/To/Call-ID are the dialog's and the
   * local CSeq goes up by one. ACK reuses the INVITE's CSeq number (13.2.2.4).
   */
  buildRequest(app: SipRequest, local: EdgeSipAddress): SipRequest {
    dropStackOwnedHeaders(app);
    const seq = app.method === 'ACK' ? this.ackCSeq : ++this.localCSeq;
    const headers: SipRequest['headers'] = [];
    for (const r of this.routeSet) headers.push({ name: 'Route', value: r });
    // RFC 3261 8.1.1.6 / RFC 7332 3: the app's Max-Forwards is kept (a B2BUA carries the other
    // leg's hop count across); 70 when it gave none or a value that is not 0..255.
    headers.push({ name: 'Max-Forwards', value: maxForwardsOf(app) });
    headers.push({ name: 'From', value: this.localNameAddr });
    headers.push({ name: 'To', value: this.remoteNameAddr });
    headers.push({ name: 'Call-ID', value: this.callId });
    headers.push({ name: 'CSeq', value: `${seq} ${app.method}` });
    const own = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards']);
    let hasContact = false;
    let hasType = false;
    for (const h of app.headers) {
      const key = h.name.toLowerCase();
      if (own.has(key)) continue;
      if (key === 'contact') hasContact = true;
      if (key === 'content-type') hasType = true;
      headers.push({ ...h });
    }
    if (!hasContact && CONTACT_METHODS.has(app.method)) headers.push({ name: 'Contact', value: this.localContact || edgeContact(local, this.transport) });
    const req: SipRequest = { kind: 'request', method: app.method, uri: this.remoteTarget, headers, body: app.body };
    // docs/edge.md §3.2: `@localhost` in the app's Contact/P-Asserted-Identity names the edge.
    localizeAppHeaders(req, local);
    if (!hasType && app.body.length > 0 && looksLikeSdp(app.body)) headers.push({ name: 'Content-Type', value: 'application/sdp' });
    return req;
  }

  /** The ACK for a 2xx is its own transaction (17.1.1.3): the edge writes its Via itself. */
  buildAck(app: SipRequest, local: EdgeSipAddress, transport: TransportName): SipRequest {
    const ack = this.buildRequest({ ...app, method: 'ACK' }, local);
    // Over TLS the sent-by is the TLS listener's port (RFC 3261 18.2.2), as the transaction layer writes it.
    const sentBy = transport === 'tls' ? { host: local.host, port: local.tlsPort ?? local.port } : local;
    ack.headers.unshift({ name: 'Via', value: `SIP/2.0/${transport.toUpperCase()} ${hostport(sentBy)};rport;branch=${newBranch()}` });
    return ack;
  }
}

function maxForwardsOf(app: SipRequest): string {
  const given = getHeader(app, 'Max-Forwards')?.trim();
  return given !== undefined && /^\d{1,3}$/.test(given) && Number(given) <= 255 ? String(Number(given)) : '70';
}

type DialogExtras = Partial<Pick<DialogInit, 'kind' | 'ownerTags' | 'initialState'>>;

/** What a UAS dialog is made of: the INVITE as received and the 2xx as sent (12.1.1). */
export function uasDialogInit(invite: SipRequest, sent: SipResponse, rest: Pick<DialogInit, 'transport' | 'flow' | 'ownerAppId' | 'inviteWireTxnId'> & DialogExtras): DialogInit | undefined {
  const callId = getHeader(invite, 'Call-ID');
  const from = getHeader(invite, 'From');
  const to = getHeader(sent, 'To');
  const remoteTag = tagOf(from);
  const localTag = tagOf(to);
  const cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '');
  const contact = getHeaders(invite, 'Contact')[0];
  const remoteTarget = contact !== undefined ? nameAddrUri(contact) : undefined;
  if (!callId || !from || !to || !remoteTag || !localTag || !cseq || !remoteTarget) return undefined;
  return {
    role: 'uas',
    callId,
    localTag,
    remoteTag,
    localNameAddr: to,
    remoteNameAddr: from,
    // 12.1.1: the local sequence number starts empty; any starting value works for our requests.
    localCSeq: Math.floor(Math.random() * 10_000) + 1,
    remoteCSeq: cseq.seq,
    routeSet: getHeaders(invite, 'Record-Route'),
    remoteTarget,
    localContact: getHeaders(sent, 'Contact')[0] ?? '',
    ackCSeq: cseq.seq,
    ...rest,
  };
}

/** A UAC dialog from the INVITE as sent and its 2xx (12.1.2): the route set is Record-Route reversed. */
export function uacDialogInit(
  invite: SipRequest,
  res: SipResponse,
  rest: Pick<DialogInit, 'transport' | 'ownerAppId' | 'inviteWireTxnId'> & DialogExtras,
  /** early dialogs (12.1.2): a 1xx without Contact leaves the Request-URI as the target */
  fallbackTarget?: string,
): DialogInit | undefined {
  const callId = getHeader(invite, 'Call-ID');
  const from = getHeader(invite, 'From');
  const to = getHeader(res, 'To');
  const localTag = tagOf(from);
  const remoteTag = tagOf(to);
  const cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '');
  const contact = getHeaders(res, 'Contact')[0];
  const remoteTarget = (contact !== undefined ? nameAddrUri(contact) : undefined) ?? fallbackTarget;
  if (!callId || !from || !to || !localTag || !remoteTag || !cseq || !remoteTarget) return undefined;
  return {
    role: 'uac',
    callId,
    localTag,
    remoteTag,
    localNameAddr: from,
    remoteNameAddr: to,
    localCSeq: cseq.seq,
    routeSet: getHeaders(res, 'Record-Route').reverse(),
    remoteTarget,
    localContact: getHeaders(invite, 'Contact')[0] ?? '',
    ackCSeq: cseq.seq,
    ...rest,
  };
}

