/**
 * One INVITE dialog as the edge keeps it (RFC 3261 12): identity, route set, remote target and
 * CSeq spaces, plus what the 2xx/ACK exchange needs. The id is drachtio's:
 * `<Call-ID>;from-tag=<From tag of the INVITE>`, for UAC and UAS dialogs alike.
 */
import { getHeader, getHeaders, parseCSeq, parseNameAddr, tagOf, type SipRequest, type SipResponse } from '../sip/message.ts';
import type { Flow, TransportName } from '../sip/transport.ts';
import { dropStackOwnedHeaders } from '../uac-request-builder.ts';
import { edgeContact, looksLikeSdp, newBranch, hostport, type EdgeSipAddress } from '../sip-identity.ts';

/**
 * accepted:  2xx sent (UAS) or received (UAC), ACK not yet seen/sent
 * confirmed: ACK exchanged (13.2.2.4, 13.3.1.4)
 * terminated: BYE sent or received, ACK timeout, or the owning application left
 */
export type DialogState = 'accepted' | 'confirmed' | 'terminated';

const TRANSITIONS: Readonly<Record<DialogState, readonly DialogState[]>> = {
  accepted: ['confirmed', 'terminated'],
  // a re-INVITE's 2xx puts the dialog back to waiting for that ACK
  confirmed: ['accepted', 'terminated'],
  terminated: [],
};

export type DialogRole = 'uac' | 'uas';

export function dialogIdOf(callId: string, inviteFromTag: string): string {
  return `${callId};from-tag=${inviteFromTag}`;
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
  readonly localContact: string;
  readonly transport: TransportName;
  readonly flow: Flow | undefined;
  readonly ownerAppId: string;
  inviteWireTxnId: string;
  ackCSeq: number;
  /**
   * Who owes the ACK for the latest 2xx to an INVITE (13.2.2.4, 13.3.1.4): the network peer when
   * the edge sent that 2xx, the application when the edge received it. It follows the direction
   * of each (re-)INVITE transaction, not the dialog's role: a callee may re-INVITE too.
   */
  ackFrom: 'network' | 'app';
  private _state: DialogState = 'accepted';

  constructor(init: DialogInit) {
    const inviteFromTag = init.role === 'uac' ? init.localTag : init.remoteTag;
    this.id = dialogIdOf(init.callId, inviteFromTag);
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localNameAddr = init.localNameAddr;
    this.remoteNameAddr = init.remoteNameAddr;
    this.localCSeq = init.localCSeq;
    this.remoteCSeq = init.remoteCSeq;
    this.routeSet = init.routeSet;
    this.remoteTarget = init.remoteTarget;
    this.localContact = init.localContact;
    this.transport = init.transport;
    this.flow = init.flow;
    this.ownerAppId = init.ownerAppId;
    this.inviteWireTxnId = init.inviteWireTxnId;
    this.ackCSeq = init.ackCSeq;
    this.ackFrom = init.role === 'uas' ? 'network' : 'app';
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
    const uri = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
    if (uri) this.remoteTarget = uri;
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
    headers.push({ name: 'Max-Forwards', value: '70' });
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
    if (!hasType && app.body.length > 0 && looksLikeSdp(app.body)) headers.push({ name: 'Content-Type', value: 'application/sdp' });
    return { kind: 'request', method: app.method, uri: this.remoteTarget, headers, body: app.body };
  }

  /** The ACK for a 2xx is its own transaction (17.1.1.3): the edge writes its Via itself. */
  buildAck(app: SipRequest, local: EdgeSipAddress, transport: TransportName): SipRequest {
    const ack = this.buildRequest({ ...app, method: 'ACK' }, local);
    ack.headers.unshift({ name: 'Via', value: `SIP/2.0/${transport.toUpperCase()} ${hostport(local)};rport;branch=${newBranch()}` });
    return ack;
  }
}

/** What a UAS dialog is made of: the INVITE as received and the 2xx as sent (12.1.1). */
export function uasDialogInit(invite: SipRequest, sent: SipResponse, rest: Pick<DialogInit, 'transport' | 'flow' | 'ownerAppId' | 'inviteWireTxnId'>): DialogInit | undefined {
  const callId = getHeader(invite, 'Call-ID');
  const from = getHeader(invite, 'From');
  const to = getHeader(sent, 'To');
  const remoteTag = tagOf(from);
  const localTag = tagOf(to);
  const cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '');
  const contact = getHeaders(invite, 'Contact')[0];
  const remoteTarget = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
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
export function uacDialogInit(invite: SipRequest, res: SipResponse, rest: Pick<DialogInit, 'transport' | 'ownerAppId' | 'inviteWireTxnId'>): DialogInit | undefined {
  const callId = getHeader(invite, 'Call-ID');
  const from = getHeader(invite, 'From');
  const to = getHeader(res, 'To');
  const localTag = tagOf(from);
  const remoteTag = tagOf(to);
  const cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '');
  const contact = getHeaders(res, 'Contact')[0];
  const remoteTarget = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
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

