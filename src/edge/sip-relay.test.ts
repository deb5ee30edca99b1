/**
 * The relay under the fake clock (docs/edge.md §4): what srf sees and what the network sees, at
 * exact times, with no socket and no wall clock.
 */
import { describe, expect, it } from 'vitest';
import { getHeader, type SipRequest, type SipResponse } from './sip/message.ts';
import { ECHO_SETTLE_MS } from './dialog/dialog.ts';
import { peerRequest, startRelayBench, UDP_FLOW, type FakeApp, type RelayBench } from '../../test/support/relay-bench.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function sentStatuses(b: RelayBench): string[] {
  return b.transport.summary();
}

/** INVITE from the peer, answered 200 by the app; returns what the tests need. */
async function answeredCall(b: RelayBench, app: FakeApp, callId = 'call-1'): Promise<{ txnId: string; dialogId: string; okAt: number }> {
  b.transport.inject(peerRequest('INVITE', { branch: 'z9hG4bKinv1', callId, body: SDP, extra: ['Content-Type: application/sdp'] }), UDP_FLOW);
  const invite = app.network().at(-1)!;
  expect(invite.msg.kind === 'request' && invite.msg.method).toBe('INVITE');
  const msgId = await b.appSends(app, [invite.txnId, ''], `SIP/2.0 200 OK\r\ncontent-type: application/sdp\r\n\r\n${SDP}`);
  const echo = app.replies(msgId)[0]!;
  expect(echo.args[1]).toBe('OK');
  return { txnId: invite.txnId, dialogId: echo.args[9] ?? '', okAt: b.clock.now() };
}

describe('SipRelay: network → app (UAS)', () => {
  it('hands a new INVITE to the app after 100 Trying, then sends its 200 with a To tag and Contact', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { dialogId } = await answeredCall(b, app);
    expect(sentStatuses(b)).toEqual(['100', '200']);
    const ok = b.transport.sent[1]!.message as SipResponse;
    expect(getHeader(ok, 'To')).toMatch(/;tag=/);
    expect(getHeader(ok, 'Contact')).toBe('<sip:192.0.2.10:5060>');
    expect(dialogId).toBe('call-1;from-tag=peer1');
    expect(b.relay.size).toMatchObject({ dialogs: 1, retransmitters: 1 });
  });

  it('retransmits the 200 at T1, 2T1, … until the ACK, and stops then', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { okAt } = await answeredCall(b, app);
    b.clock.advance(100 + 200 + 1);
    expect(b.transport.sent.filter((s) => s.message.kind === 'response' && s.message.status === 200).map((s) => s.at - okAt)).toEqual([0, 100, 300]);
    const ok = b.transport.sent[1]!.message as SipResponse;
    b.transport.inject(peerRequest('ACK', { branch: 'z9hG4bKack1', callId: 'call-1', toTag: /tag=([^;>]+)/.exec(getHeader(ok, 'To')!)![1]! }), UDP_FLOW);
    const before = b.transport.sent.length;
    b.clock.advance(10_000);
    expect(b.transport.sent.length).toBe(before);
    expect(b.relay.size.retransmitters).toBe(0);
  });

  it('keeps the ACK and a BYE right behind the 2xx echo apart by the settle interval, in order (docs/edge.md §4.3)', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { dialogId } = await answeredCall(b, app);
    const toTag = /tag=([^;>]+)/.exec(getHeader(b.transport.sent[1]!.message, 'To')!)![1]!;
    b.transport.inject(peerRequest('ACK', { branch: 'z9hG4bKack1', callId: 'call-1', toTag }), UDP_FLOW);
    b.transport.inject(peerRequest('BYE', { branch: 'z9hG4bKbye1', callId: 'call-1', toTag, cseq: 2 }), UDP_FLOW);
    const methods = () => app.network().map((n) => (n.msg.kind === 'request' ? n.msg.method : String(n.msg.status)));
    expect(methods()).toEqual(['INVITE']);
    b.clock.advance(ECHO_SETTLE_MS - 1);
    expect(methods()).toEqual(['INVITE']);
    b.clock.advance(1);
    expect(methods()).toEqual(['INVITE', 'ACK']);
    b.clock.advance(ECHO_SETTLE_MS);
    expect(methods()).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(app.network().slice(1).every((n) => n.dialogId === dialogId)).toBe(true);
    // the BYE ended the dialog at once; its answer is the app's
    expect(b.relay.size.dialogs).toBe(0);
  });

  it('without an ACK: BYE with Reason after 64*T1 and an unsolicited BYE to the app', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { okAt, dialogId } = await answeredCall(b, app);
    b.clock.advance(64 * 100 - 1);
    expect(b.transport.sent.some((s) => s.message.kind === 'request' && s.message.method === 'BYE')).toBe(false);
    b.clock.advance(1);
    await b.settle();
    const bye = b.transport.sent.find((s) => s.message.kind === 'request' && s.message.method === 'BYE')!;
    expect(bye.at - okAt).toBe(6400);
    expect(getHeader(bye.message, 'Reason')).toBe('SIP;cause=200;text="ACK timeout"');
    const unsolicited = app.frames.find((f) => f.command === 'sip' && f.args[0] === 'application')!;
    expect(unsolicited.args[6]).toBe('unsolicited');
    expect(unsolicited.args[7]).toBe(dialogId);
    expect(b.relay.size.dialogs).toBe(0);
  });

  it('quick CANCEL: 200 and 487 from the edge, cancel to the app, a late answer refused for 64*T1', async () => {
    const b = startRelayBench();
    const app = b.app();
    b.transport.inject(peerRequest('INVITE', { branch: 'z9hG4bKinv2', callId: 'c2' }), UDP_FLOW);
    const invite = app.network()[0]!;
    b.transport.inject(peerRequest('CANCEL', { branch: 'z9hG4bKinv2', callId: 'c2' }), UDP_FLOW);
    await b.settle();
    expect(sentStatuses(b)).toEqual(['100', '200', '487']);
    expect(app.network().map((n) => (n.msg.kind === 'request' ? n.msg.method : ''))).toEqual(['INVITE', 'CANCEL']);
    b.transport.inject(peerRequest('ACK', { branch: 'z9hG4bKinv2', callId: 'c2' }), UDP_FLOW);
    // Timer I (T4) ends the INVITE transaction; the record stays 64*T1 more
    b.clock.advance(500);
    expect(b.relay.size).toMatchObject({ inbound: 0, cancelled: 1 });
    const late = await b.appSends(app, [invite.txnId, ''], 'SIP/2.0 200 OK\r\n\r\n');
    expect(app.replies(late)[0]!.args.slice(1, 3)).toEqual(['NOK', 'request was cancelled']);
    b.clock.advance(64 * 100);
    expect(b.relay.size.cancelled).toBe(0);
  });

  it('answers 503 when no app routed the method, 481 for an unknown dialog', async () => {
    const b = startRelayBench();
    b.app('app-1', ['invite']);
    b.transport.inject(peerRequest('OPTIONS', { branch: 'z9hG4bKo1', callId: 'o1' }), UDP_FLOW);
    b.transport.inject(peerRequest('BYE', { branch: 'z9hG4bKb1', callId: 'nope', toTag: 'x' }), UDP_FLOW);
    await b.settle();
    expect(sentStatuses(b)).toEqual(['503', '481']);
  });
});

describe('SipRelay: app → network (UAC)', () => {
  async function placeCall(b: RelayBench, app: FakeApp): Promise<{ txnId: string; invite: SipRequest }> {
    const msgId = await b.appSends(app, ['', ''], `INVITE sip:callee@192.0.2.30:5060 SIP/2.0\r\nfrom: <sip:me@localhost>\r\nto: <sip:callee@192.0.2.30>\r\ncontent-type: application/sdp\r\n\r\n${SDP}`);
    const echo = app.replies(msgId)[0]!;
    expect(echo.args[1]).toBe('OK');
    return { txnId: echo.args[8] ?? '', invite: b.transport.sent[0]!.message as SipRequest };
  }

  function answer(b: RelayBench, invite: SipRequest, status: number, extra: string[] = []): void {
    const lines = [
      `SIP/2.0 ${status} X`,
      ...invite.headers.filter((h) => h.name === 'Via').map((h) => `Via: ${h.value}`),
      `From: ${getHeader(invite, 'From')}`,
      `To: ${getHeader(invite, 'To')};tag=callee1`,
      `Call-ID: ${getHeader(invite, 'Call-ID')}`,
      `CSeq: ${getHeader(invite, 'CSeq')}`,
      'Contact: <sip:callee@192.0.2.30:5060>',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ];
    b.transport.inject(lines.join('\r\n'), { ...UDP_FLOW, remoteAddress: '192.0.2.30', remotePort: 5060 });
  }

  it('completes the INVITE (Via, From tag, @localhost rewritten), relays the 200 with the dialog id, sends the app ACK', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { txnId, invite } = await placeCall(b, app);
    expect(getHeader(invite, 'From')).toMatch(/^<sip:me@192\.0\.2\.10:5060>;tag=/);
    answer(b, invite, 200);
    const ok = app.network().at(-1)!;
    expect(ok.txnId).toBe(txnId);
    expect(ok.dialogId).toMatch(/;from-tag=/);
    const ackId = await b.appSends(app, ['', ok.dialogId], 'ACK sip:placeholder SIP/2.0\r\n\r\n');
    expect(app.replies(ackId)[0]!.args[1]).toBe('OK');
    const ack = b.transport.sent.at(-1)!.message as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe('sip:callee@192.0.2.30:5060');
    expect(getHeader(ack, 'CSeq')).toBe(`${getHeader(invite, 'CSeq')!.split(' ')[0]} ACK`);
    // a retransmitted 200 gets the same ACK again (13.2.2.4), and is not passed up twice
    answer(b, invite, 200);
    await b.settle();
    expect(b.transport.sent.at(-1)!.data.equals(b.transport.sent.at(-2)!.data)).toBe(true);
    expect(app.network().filter((n) => n.msg.kind === 'response' && n.msg.status === 200)).toHaveLength(1);
  });

  it('reports a silent peer as 408 after 64*T1 (Timer B)', async () => {
    const b = startRelayBench();
    const app = b.app();
    await placeCall(b, app);
    b.clock.advance(64 * 100);
    const last = app.network().at(-1)!;
    expect(last.msg.kind === 'response' && last.msg.status).toBe(408);
  });
});

describe('SipRelay: reliable provisionals under the fake clock (RFC 3262)', () => {
  async function reliable183(b: RelayBench, app: FakeApp, body = ''): Promise<{ txnId: string; rseq: number; sentAt: number; dialogId: string }> {
    b.transport.inject(peerRequest('INVITE', { branch: 'z9hG4bKrel1', callId: 'rel-1', extra: ['Supported: 100rel'] }), UDP_FLOW);
    const invite = app.network().at(-1)!;
    const msgId = await b.appSends(app, [invite.txnId, ''], `SIP/2.0 183 Session Progress\r\nrequire: 100rel\r\n${body ? 'content-type: application/sdp\r\n' : ''}\r\n${body}`);
    const echo = app.replies(msgId)[0]!;
    const sent = b.transport.sent.find((s) => s.message.kind === 'response' && s.message.status === 183)!;
    return { txnId: invite.txnId, rseq: Number(getHeader(sent.message, 'RSeq')), sentAt: sent.at, dialogId: echo.args[9] ?? '' };
  }

  function prack(b: RelayBench, rseq: number, cseqOfInvite = 1): void {
    const toTag = /tag=([^;>]+)/.exec(getHeader(b.transport.sent.find((s) => s.message.kind === 'response' && s.message.status === 183)!.message, 'To')!)![1]!;
    b.transport.inject(peerRequest('PRACK', { branch: `z9hG4bKpr${rseq}`, callId: 'rel-1', toTag, cseq: 2, extra: [`RAck: ${rseq} ${cseqOfInvite} INVITE`] }), UDP_FLOW);
  }

  it('adds RSeq, retransmits at T1 doubling to T2 until the PRACK, which reaches the app with the dialog id', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { rseq, sentAt, dialogId } = await reliable183(b, app);
    expect(rseq).toBeGreaterThan(0);
    expect(dialogId).toBe('rel-1;from-tag=peer1');
    b.clock.advance(100 + 200 + 400 + 400 + 1);
    const at = b.transport.sent.filter((s) => s.message.kind === 'response' && s.message.status === 183).map((s) => s.at - sentAt);
    expect(at).toEqual([0, 100, 300, 700, 1100]);
    prack(b, rseq);
    const p = app.network().at(-1)!;
    expect(p.msg.kind === 'request' && p.msg.method).toBe('PRACK');
    expect(p.dialogId).toBe(dialogId);
    b.clock.advance(5000);
    expect(b.transport.sent.filter((s) => s.message.kind === 'response' && s.message.status === 183)).toHaveLength(5);
  });

  it('answers a PRACK with the wrong RSeq 481 and keeps retransmitting', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { rseq } = await reliable183(b, app);
    prack(b, rseq + 1);
    await b.settle();
    expect(b.transport.summary()).toContain('481');
    expect(app.network().some((n) => n.msg.kind === 'request' && n.msg.method === 'PRACK')).toBe(false);
    b.clock.advance(101);
    expect(b.transport.sent.filter((s) => s.message.kind === 'response' && s.message.status === 183)).toHaveLength(2);
  });

  it('holds the 2xx behind an unacknowledged 183 with a body, sends it right after the PRACK', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { txnId, rseq } = await reliable183(b, app, SDP);
    const okId = await b.appSends(app, [txnId, ''], `SIP/2.0 200 OK\r\ncontent-type: application/sdp\r\n\r\n${SDP}`);
    expect(b.transport.summary()).not.toContain('200');
    expect(app.replies(okId)).toHaveLength(0);
    prack(b, rseq);
    await b.settle();
    expect(b.transport.summary().filter((s) => s === '200')).toHaveLength(1);
    expect(app.replies(okId)[0]!.args[1]).toBe('OK');
    // the PRACK reached the app before the 200's echo
    const order = app.frames.map((f) => (f.command === 'sip' ? 'prack' : f.args[0] === okId ? 'echo' : '')).filter((x) => x);
    expect(order.slice(-2)).toEqual(['prack', 'echo']);
  });

  it('refuses the INVITE 503 after 64*T1 without a PRACK', async () => {
    const b = startRelayBench();
    const app = b.app();
    const { sentAt } = await reliable183(b, app);
    b.clock.advance(6400);
    await b.settle();
    const refusal = b.transport.sent.find((s) => s.message.kind === 'response' && s.message.status === 503)!;
    expect(refusal.at - sentAt).toBe(6400);
    expect((refusal.message as SipResponse).reason).toBe('Reliable Response Time-Out');
    expect(b.relay.size.dialogs).toBe(0);
  });
});

describe('SipRelay: an app that leaves', () => {
  it('keeps its confirmed dialog; the peer BYE then gets 481 and ends it', async () => {
    const b = startRelayBench();
    const app = b.app();
    await answeredCall(b, app);
    const toTag = /tag=([^;>]+)/.exec(getHeader(b.transport.sent[1]!.message, 'To')!)![1]!;
    b.transport.inject(peerRequest('ACK', { branch: 'z9hG4bKack1', callId: 'call-1', toTag }), UDP_FLOW);
    app.closed = true;
    b.registry.remove(app);
    await b.settle();
    expect(b.relay.size.dialogs).toBe(1);
    expect(b.transport.summary().filter((s) => s === 'BYE')).toHaveLength(0);
    b.transport.inject(peerRequest('BYE', { branch: 'z9hG4bKbye9', callId: 'call-1', toTag, cseq: 2 }), UDP_FLOW);
    await b.settle();
    expect(b.transport.summary().at(-1)).toBe('481');
    expect(b.relay.size.dialogs).toBe(0);
  });
});
