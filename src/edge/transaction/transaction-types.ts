/** The public faces of client and server transactions (RFC 3261 17), shared by the four state machines. */
import type { Listenable } from './slim-emitter.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message.ts';
import type { Flow, Target } from '../sip/transport.ts';

export interface ClientTransactionEvents {
  /** every response the TU should see: provisional, final, and (INVITE) each retransmitted 2xx */
  response: [res: SipResponse];
  /** Timer B or F fired (the TU reports 408) */
  timeout: [];
  /** the transport failed to send (the TU reports 503, RFC 3261 8.1.3.1) */
  'transport-error': [err: Error];
  terminated: [];
}

export interface ClientTransaction extends Listenable<ClientTransactionEvents> {
  readonly id: string;
  readonly method: string;
  /** the request as sent, with our Via on top; once a final response came, only its method and Request-URI */
  readonly request: SipRequest;
  /** bytes as sent (with Via) */
  readonly sent: Buffer;
  readonly target: Target;
  readonly state: string;
  /**
   * INVITE only (RFC 3261 9.1): builds the CANCEL and sends it as its own non-INVITE transaction
   * once a provisional response has arrived (deferred until then). Returns undefined when a
   * final response already arrived or for a non-INVITE transaction. extraHeaders (e.g. Reason,
   * RFC 3326) are added to the CANCEL; the headers 9.1 takes from the INVITE cannot be overridden.
   */
  cancel(extraHeaders?: readonly SipHeader[]): SipRequest | undefined;
  /** the CANCEL's own client transaction, once it was sent */
  readonly cancelTransaction: ClientTransaction | undefined;
}

export interface ServerTransactionEvents {
  /** Timer H fired without an ACK (INVITE, non-2xx final) */
  timeout: [];
  'transport-error': [err: Error];
  terminated: [];
}

export interface ServerTransaction extends Listenable<ServerTransactionEvents> {
  readonly id: string;
  readonly method: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  /** where responses go (RFC 3261 18.2.2) */
  readonly target: Target;
  readonly state: string;
  /**
   * Sends a response and returns the bytes as sent. Rejects when the state machine does not
   * allow it (e.g. a second final response) or the transport fails.
   */
  respond(res: SipResponse): Promise<Buffer>;
}
