/** The edge's dialogs by id, and the lookup for requests arriving from the network (RFC 3261 12.2.2). */
import { getHeader, tagOf, type SipRequest } from '../sip/message.ts';
import { dialogIdOf, type Dialog } from './dialog.ts';

export class DialogStore {
  private readonly byId = new Map<string, Dialog>();

  add(d: Dialog): void {
    this.byId.set(d.id, d);
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  delete(d: Dialog): void {
    if (this.byId.get(d.id) === d) this.byId.delete(d.id);
  }

  ownedBy(appId: string): Dialog[] {
    return [...this.byId.values()].filter((d) => d.ownerAppId === appId);
  }

  all(): Dialog[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * The dialog a request from the peer belongs to. As UAS the peer's From tag is the INVITE's
   * From tag; as UAC the INVITE's From tag is ours, which the peer puts in To.
   */
  matchIncoming(req: SipRequest): Dialog | undefined {
    const callId = getHeader(req, 'Call-ID');
    const fromTag = tagOf(getHeader(req, 'From'));
    const toTag = tagOf(getHeader(req, 'To'));
    if (!callId || !fromTag || !toTag) return undefined;
    const asUas = this.byId.get(dialogIdOf(callId, fromTag));
    if (asUas && asUas.role === 'uas' && asUas.localTag === toTag) return asUas;
    const asUac = this.byId.get(dialogIdOf(callId, toTag));
    if (asUac && asUac.role === 'uac' && asUac.remoteTag === fromTag) return asUac;
    return undefined;
  }

  /** A 2xx (or its retransmission) for an INVITE we sent: Call-ID + our From tag + the peer's To tag. */
  matchResponse(callId: string, fromTag: string, toTag: string): Dialog | undefined {
    const d = this.byId.get(dialogIdOf(callId, fromTag));
    return d && d.role === 'uac' && d.remoteTag === toTag ? d : undefined;
  }
}
