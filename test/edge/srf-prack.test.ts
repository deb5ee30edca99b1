/**
 * Reliable provisionals (RFC 3262) through the edge with the unmodified drachtio-srf and sipp:
 * srf PRACKs a reliable 18x as UAC, the edge retransmits an app's reliable 18x until the PRACK
 * (and refuses the INVITE with 503 when none comes), and a B2BUA carries one end to end
 * (docs/edge.md §6).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, SDP, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp, type SippResult } from '../support/sipp.ts';
import { sendWithPrack } from '../support/srf-untyped.ts';

let h: EdgeHarness | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

function expectSuccess(r: SippResult, who = 'sipp'): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${h?.logs.text().slice(-5000)}`).toBe(0);
}

/** Messages sipp received, by first line. */
function received(r: SippResult, firstLine: RegExp): string[] {
  return r.messages
    .split(/message received[^\n]*\n/)
    .slice(1)
    .map((m) => (m.trimStart().split(/\n-{20,}/)[0] ?? ''))
    .filter((m) => firstLine.test(m.split('\n')[0] ?? ''));
}

describe.each(['udp', 'tcp'] as const)('PRACK over %s', (transport) => {
  it('UAC: srf PRACKs the callee reliable 180 (RAck = RSeq CSeq INVITE) and the call connects', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'edge/uas-reliable-180.xml', transport, timeoutSec: 15 });
    const uri = `sip:callee@127.0.0.1:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    const uac = await srf.createUAC(uri, { localSdp: SDP, headers: { Supported: '100rel' } });
    await uac.destroy();
    const r = await callee.done;
    expectSuccess(r, 'callee');
    const prack = received(r, /^PRACK /)[0] ?? '';
    expect(prack).toMatch(/^RAck: 7 \d+ INVITE/m);
    expect(prack).toMatch(/^To: .*tag=/m);
    // to the 180's Contact, the early dialog's remote target (RFC 3261 12.1.2)
    expect(prack.split('\n')[0]).toMatch(/^PRACK sip:callee@127\.0\.0\.1:\d+/);
    expect(received(r, /^PRACK /)).toHaveLength(1);
    await waitFor(() => h!.edge.stats().dialogs === 0, 2000, 'dialogs gone');
  });

  it('UAS: a 183 the app sends with Require: 100rel gets RSeq and Contact, is PRACKed, then the app answers', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    let pracked = false;
    srf.invite((req, res) => {
      sendWithPrack(res, 183, { headers: { Require: '100rel' }, body: SDP }, undefined, () => {
        pracked = true;
        void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
      });
    });
    const caller = await startSipp({ scenario: 'edge/uac-100rel.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await caller.done;
    expectSuccess(r, 'caller');
    expect(pracked).toBe(true);
    const p183 = received(r, /^SIP\/2\.0 183/)[0] ?? '';
    expect(p183).toMatch(/^RSeq: \d+/m);
    expect(p183).toMatch(/^Require: 100rel/m);
  });

  it('UAS: the reliable 183 is retransmitted (UDP) until the late PRACK, and the 200 waits for it', async () => {
    h = await startEdgeHarness(); // T1 = 50 ms
    const srf: Srf = await h.connectApp();
    srf.invite((req, res) => {
      sendWithPrack(res, 183, { headers: { Require: '100rel' }, body: SDP });
      // answered at once: the 2xx must not overtake the PRACK of a 183 with a body (RFC 3262 §3)
      setTimeout(() => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined), 50);
    });
    const caller = await startSipp({ scenario: 'edge/uac-100rel-slow.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await caller.done;
    expectSuccess(r, 'caller');
    const copies = received(r, /^SIP\/2\.0 183/).length;
    if (transport === 'udp') expect(copies).toBeGreaterThanOrEqual(3);
    else expect(copies).toBe(1);
  });

  it('UAS: without a PRACK the INVITE is refused 503 after 64*T1 and the app is told no more', async () => {
    h = await startEdgeHarness({ t1Ms: 20, t2Ms: 160, t4Ms: 200 });
    const srf: Srf = await h.connectApp();
    let lateAnswer: unknown = 'not tried';
    srf.invite((_req, res) => {
      sendWithPrack(res, 183, { headers: { Require: '100rel' } });
      setTimeout(() => sendWithPrack(res, 486, {}, (err) => (lateAnswer = err ?? 'sent')), 2000);
    });
    const caller = await startSipp({ scenario: 'edge/uac-100rel-no-prack.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await caller.done;
    expectSuccess(r, 'caller');
    expect(r.messages).toMatch(/SIP\/2\.0 503 Reliable Response Time-Out/);
    await waitFor(() => lateAnswer !== 'not tried', 4000, 'late answer');
    // refused: the edge answered for it (or its transaction is already gone)
    expect(String(lateAnswer)).toMatch(/final response already sent|unknown transaction/);
    await waitFor(() => h!.edge.stats().dialogs === 0, 2000, 'dialogs gone');
  });

  it('UAS: refuses a reliable 18x when the caller did not say it supports 100rel', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    let err: unknown = 'not tried';
    srf.invite((req, res) => {
      sendWithPrack(res, 183, { headers: { Require: '100rel' } }, (e) => {
        err = e;
        void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
      });
    });
    const caller = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    expectSuccess(await caller.done, 'caller');
    expect(String(err)).toMatch(/does not support 100rel/);
  });

  it('B2BUA: the callee reliable 180 reaches the caller reliably, both legs PRACK, the call connects', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'edge/uas-reliable-180.xml', transport, timeoutSec: 15 });
    const uri = `sip:callee@127.0.0.1:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    srf.invite((req, res) => {
      srf
        .createB2BUA(req, res, uri, { proxyRequestHeaders: ['Supported'], proxyResponseHeaders: ['all'] })
        .then(({ uas, uac }) => {
          uas.on('destroy', () => void uac.destroy());
        })
        .catch(() => undefined);
    });
    const caller = await startSipp({ scenario: 'edge/uac-100rel-180.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, 'caller');
    expectSuccess(re, 'callee');
    expect(received(rc, /^SIP\/2\.0 180/)[0]).toMatch(/^Require: 100rel/m);
    expect(received(re, /^PRACK /)).toHaveLength(1);
  });
});
