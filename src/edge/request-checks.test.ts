import { describe, expect, it } from 'vitest';
import type { SipRequest } from './sip/message.ts';
import { checkIncomingRequest } from './request-checks.ts';

function req(method: string, uri: string, extra: Array<[string, string]> = []): SipRequest {
  return {
    kind: 'request',
    method,
    uri,
    headers: [
      { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' },
      { name: 'Max-Forwards', value: '70' },
      ...extra.map(([name, value]) => ({ name, value })),
    ].filter((h, i, all) => !(h.name === 'Max-Forwards' && all.some((o, j) => j > i && o.name === 'Max-Forwards'))),
    body: Buffer.alloc(0),
  };
}

describe('checkIncomingRequest (RFC 3261 8.2.2, 16.3)', () => {
  it.each([
    ['INVITE', 'sip:alice@example.com', [], undefined],
    ['INVITE', 'sips:alice@example.com', [], undefined],
    ['INVITE', 'tel:+15551234567', [], undefined],
    ['OPTIONS', 'SIP:alice@example.com', [], undefined],
    // a UAS answers whatever the Max-Forwards (RFC 4475 3.3.11); 483 is for forwarding (16.3)
    ['INVITE', 'sip:a@x', [['Max-Forwards', '0']], undefined],
    ['OPTIONS', 'sip:a@x', [['Max-Forwards', '0']], undefined],
    ['INVITE', 'sip:a@x', [['Max-Forwards', '1']], undefined],
    ['INVITE', 'mailto:alice@example.com', [], 416],
    ['INVITE', 'http://example.com/', [], 416],
    ['INVITE', 'sip:a@x', [['Require', '100rel']], undefined],
    ['INVITE', 'sip:a@x', [['Require', 'precondition']], 420],
    ['INVITE', 'sip:a@x', [['Require', 'replaces, timer']], undefined],
    ['INVITE', 'sip:a@x', [['Require', 'timer, foo']], 420],
    ['BYE', 'sip:a@x', [['Require', 'foo']], 420],
    // 8.2.2.3: never refuse ACK or CANCEL for Require
    ['CANCEL', 'sip:a@x', [['Require', 'foo']], undefined],
  ] as Array<[string, string, Array<[string, string]>, number | undefined]>)('%s %s %j → %s', (method, uri, extra, status) => {
    expect(checkIncomingRequest(req(method, uri, extra))?.status).toBe(status);
  });

  it('names every unsupported option tag in Unsupported, once', () => {
    const r = checkIncomingRequest(req('INVITE', 'sip:a@x', [['Require', 'precondition, foo'], ['Require', 'FOO, replaces, 100rel']]));
    expect(r).toEqual({ status: 420, reason: 'Bad Extension', headers: [{ name: 'Unsupported', value: 'precondition, foo' }] });
  });
});
