/**
 * Every RFC 4475 torture message, sent over UDP to the edge with a real drachtio-srf application
 * behind it: the edge's verdict must be the one test/support/rfc4475/verdicts.ts gives (handed
 * to the app, answered by the edge with a status, or dropped), and the edge must go on working.
 * Each message is sent from a socket of its own (several messages share a branch, and a
 * transaction is matched by branch and sent-by, RFC 3261 17.2.3), and what comes back is read
 * raw: the edge's 400 copies the broken headers it refuses, which no strict parser would take.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { parseMessage } from '../../src/edge/sip/parser.ts';
import { RFC4475, tortureBytes, tortureCallId, withSentBy } from '../support/rfc4475/verdicts.ts';
import { buildRequest, RawSipPeer } from './raw-sip-peer.ts';

let h: EdgeHarness;
const seenByApp: string[] = [];

beforeAll(async () => {
  h = await startEdgeHarness();
  const srf: Srf = await h.connectApp();
  type Handler = (req: { get(name: string): string }, res: { send(status: number): void }) => void;
  const answer = (status: number): Handler => (req, res) => {
    seenByApp.push(req.get('Call-ID'));
    res.send(status);
  };
  // srf has a method per SIP method at runtime; its type declarations list only some
  const methods = srf as unknown as Record<'invite' | 'options' | 'register' | 'message', (h: Handler) => void>;
  methods.invite(answer(488));
  methods.options(answer(200));
  methods.register(answer(200));
  methods.message(answer(200));
  // the routes are registered in order: once a MESSAGE reaches the app, all of them are
  const peer = await RawSipPeer.open('udp', h.edge.sipAddress);
  const warm = buildRequest({ method: 'MESSAGE', peer }, h.edge.sipAddress);
  await waitFor(() => {
    if (seenByApp.includes(warm.callId)) return true;
    peer.send(warm.text);
    return false;
  }, 5000, 'the app routes');
  peer.close();
});

afterAll(async () => {
  await h?.close();
});

interface RawAnswer {
  status: number;
  callId: string | undefined;
}

/** Sends one datagram from a fresh socket and collects the responses for ms (or until a final one). */
async function exchange(bytes: Buffer, ms: number): Promise<RawAnswer[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const got: RawAnswer[] = [];
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      sock.on('message', (data) => {
        const text = data.toString('latin1');
        const m = /^SIP\/2\.0 (\d{3})/.exec(text);
        if (!m) return;
        got.push({ status: Number(m[1]), callId: tortureCallId(data) });
        if (Number(m[1]) >= 200) {
          clearTimeout(timer);
          resolve();
        }
      });
      sock.send(withSentBy(bytes, '127.0.0.1', sock.address().port), h.edge.sipAddress.port, h.edge.sipAddress.host);
    });
  } finally {
    sock.close();
  }
  return got;
}

describe('RFC 4475 torture messages: the edge verdict for each', () => {
  it('covers all 49 messages', () => {
    expect(RFC4475).toHaveLength(49);
    expect(new Set(RFC4475.map((m) => m.file)).size).toBe(49);
  });

  it.each(RFC4475.map((m) => [`${m.section} ${m.file}`, m] as const))('%s', async (_name, m) => {
    const raw = tortureBytes(m.file);
    const callId = tortureCallId(raw);
    const got = await exchange(raw, m.verdict.kind === 'drop' ? 300 : 3000);
    const final = got.find((a) => a.status >= 200);
    switch (m.verdict.kind) {
      case 'app':
        expect(seenByApp).toContain(callId);
        // the application's own answer came back (200, or 488 to an INVITE), for this request
        expect(final).toEqual({ status: raw.toString('latin1').startsWith('INVITE') ? 488 : 200, callId });
        break;
      case 'status':
        expect(final?.status).toBe(m.verdict.status);
        if (callId !== undefined) expect(final?.callId).toBe(callId);
        expect(seenByApp).not.toContain(callId);
        break;
      case 'unrouted':
        // parsed as valid; no app routes the method, so the edge answers that (never a 400/505)
        expect([405, 501, 503]).toContain(final?.status);
        break;
      case 'drop':
        expect(got).toEqual([]);
        break;
    }
    // after each message the edge still answers an ordinary request
    const peer = await RawSipPeer.open('udp', h.edge.sipAddress);
    try {
      const probe = buildRequest({ method: 'OPTIONS', peer }, h.edge.sipAddress);
      peer.send(probe.text);
      expect((await peer.finalResponse(probe.callId)).status).toBe(200);
    } finally {
      peer.close();
    }
  });

  it('3.1.1.8: the INVITE-looking octets after the REGISTER never reach the application', () => {
    expect(seenByApp).toContain('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(seenByApp).not.toContain('dblreq.0ha0isnda977644900765@192.0.2.15');
  });

  it('3.1.2.15: baddn.dat ends without the blank line; completed with it, it is still refused, for its display names', () => {
    const r = parseMessage(Buffer.concat([tortureBytes('baddn'), Buffer.from('\r\n')]), 65535);
    expect(r.ok ? 'accepted' : r.reason).toBe('invalid from');
  });

  it('3.3.11: OPTIONS with Max-Forwards: 0 to the edge itself is answered by the application with 200 (no 483)', () => {
    expect(seenByApp).toContain('zeromf.jfasdlfnm2o2l43r5u0asdfas');
  });
});
