/**
 * What the relay remembers about one transaction while it crosses the edge: a request from the
 * network handed to an application (inbound) or a request an application sent (outbound). Each
 * lives exactly as long as its transaction, plus the retention a cancelled INVITE needs.
 */
import type { SipRequest } from '../sip/message.ts';
import type { Flow } from '../sip/transport.ts';
import type { ClientTransaction, ServerTransaction } from '../transaction/transaction-types.ts';
import type { Dialog } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-registry.ts';

/**
 * pending:    the app has not answered finally
 * final-sent: the app's final response went out (or the edge answered for it)
 * cancelled:  quick CANCEL (RFC 3261 9.2): the edge answered 487; a late answer is refused
 */
export type InboundState = 'pending' | 'final-sent' | 'cancelled';

const INBOUND_TRANSITIONS: Readonly<Record<InboundState, readonly InboundState[]>> = {
  pending: ['final-sent', 'cancelled'],
  // a failed send gives the app its turn back
  'final-sent': ['pending'],
  cancelled: [],
};

export interface InboundTxn {
  /** the wire transaction id srf quotes when it answers */
  id: string;
  app: AppConnection;
  /** the server transaction's request (after its final response, only what answering it takes) */
  readonly request: SipRequest;
  server: ServerTransaction;
  flow: Flow;
  toTag: string;
  state: InboundState;
  /** '' for an out-of-dialog non-INVITE request */
  dialogId: string;
  dialog: Dialog | undefined;
  /** the server transaction ended; the record stays only to refuse a late answer */
  ended: boolean;
  /** srf.proxyRequest took the request over (docs/edge.md §7) */
  proxy: { cancel(): void } | undefined;
}

/** What the relay gives a new inbound record; the rest starts as every record's does. */
export type InboundFields = Omit<InboundTxn, 'request' | 'state' | 'ended' | 'proxy'>;

/**
 * A new inbound record. Its request is read from the server transaction, which trims it once
 * answered (lingering-state.ts).
 *
 * The record is a class instance with the getter on its prototype, not an object literal with
 * a getter of its own: V8 gives every object made from a literal with an accessor a hidden class
 * of its own (a map, a descriptor array, the accessor pair, the closure and its context, about
 * 500 B), kept for as long as the transaction lingers (64*T1), and every property read of such
 * records sees a different shape (docs/performance.md §15). A getter in the caller's scope would
 * also share that scope's closure context, and so keep what the caller's other closures capture.
 */
export function newInboundRecord(fields: InboundFields): InboundTxn {
  return new InboundRecord(fields);
}

class InboundRecord implements InboundTxn {
  id: string;
  app: AppConnection;
  server: ServerTransaction;
  flow: Flow;
  toTag: string;
  state: InboundState = 'pending';
  dialogId: string;
  dialog: Dialog | undefined;
  ended = false;
  proxy: { cancel(): void } | undefined = undefined;

  constructor(fields: InboundFields) {
    this.id = fields.id;
    this.app = fields.app;
    this.server = fields.server;
    this.flow = fields.flow;
    this.toTag = fields.toTag;
    this.dialogId = fields.dialogId;
    this.dialog = fields.dialog;
  }

  get request(): SipRequest {
    return this.server.request;
  }
}

/**
 * The record's final response went (or came): it no longer acts on its dialog, which the dialog
 * store holds while it lasts. Letting go of it here keeps a lingering transaction (64*T1 after
 * its final response) from keeping an ended dialog and its state reachable (docs/performance.md §9).
 */
export function releaseDialog(record: InboundTxn | OutboundTxn): void {
  record.dialog = undefined;
  if ('early' in record) record.early = undefined;
}

/** One transition function for inbound records; illegal moves are refused (false). */
export function moveInbound(record: InboundTxn, to: InboundState): boolean {
  if (record.state === to) return true;
  if (!INBOUND_TRANSITIONS[record.state].includes(to)) return false;
  record.state = to;
  return true;
}

export interface OutboundTxn {
  id: string;
  app: AppConnection;
  client: ClientTransaction;
  dialogId: string;
  dialog: Dialog | undefined;
  /** a final response reached the app (later ones are absorbed or re-ACKed) */
  final: boolean;
  /** INVITE: the early dialog its reliable provisionals and PRACKs use (RFC 3262) */
  early: Dialog | undefined;
}
