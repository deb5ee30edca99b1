import { describe, expect, it } from 'vitest';
import type { Dialog } from '../dialog/dialog.ts';
import type { SipRequest } from '../sip/message.ts';
import type { ServerTransaction } from '../transaction/transaction-types.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import type { Flow } from '../sip/transport.ts';
import { moveInbound, newInboundRecord, releaseDialog, type OutboundTxn } from './transaction-records.ts';

const request = (uri: string): SipRequest => ({ kind: 'request', method: 'INVITE', uri, headers: [], body: Buffer.alloc(0) });

describe('transaction records', () => {
  it("an inbound record reads its request from the server transaction, so it sees the transaction's trim", () => {
    const server = { request: request('sip:a@example.com') } as unknown as ServerTransaction & { request: SipRequest };
    const dialog = { id: 'd1' } as unknown as Dialog;
    const record = newInboundRecord({ id: 'w1', app: {} as AppConnection, server, flow: {} as Flow, toTag: 't', dialogId: 'd1', dialog });
    expect(record).toMatchObject({ state: 'pending', ended: false, proxy: undefined, dialog });
    expect(record.request.uri).toBe('sip:a@example.com');
    (server as { request: SipRequest }).request = request('sip:trimmed@example.com');
    expect(record.request.uri).toBe('sip:trimmed@example.com');
    expect(moveInbound(record, 'final-sent')).toBe(true);
    releaseDialog(record);
    expect(record.dialog).toBeUndefined();
    expect(record.dialogId).toBe('d1');
  });

  it('an outbound record lets go of its dialog and its early dialog', () => {
    const record: OutboundTxn = { id: 'w2', app: {} as AppConnection, client: {} as OutboundTxn['client'], dialogId: 'd2', dialog: { id: 'd2' } as Dialog, final: true, early: { id: 'e' } as Dialog };
    releaseDialog(record);
    expect(record.dialog).toBeUndefined();
    expect(record.early).toBeUndefined();
    expect(record.dialogId).toBe('d2');
  });
});
