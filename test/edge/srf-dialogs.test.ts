/**
 * Dialog behaviour drachtio-server gives srf, through the edge with sipp (docs/edge.md §3.2,
 * §4.6, §4.7): SUBSCRIBE/NOTIFY dialogs, a challenged BYE sent again with credentials, Contact
 * rewritten to the edge and written with <>, and a Contact on 18x responses (RFC 3261 12.1.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, SDP, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp, type SippResult } from '../support/sipp.ts';
import { createUas, onSubscribe } from '../support/srf-untyped.ts';

let h: EdgeHarness | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

function expectSuccess(r: SippResult, who = 'sipp'): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${h?.logs.text().slice(-5000)}`).toBe(0);
}

function received(r: SippResult, firstLine: RegExp): string[] {
  return r.messages
    .split(/message received[^\n]*\n/)
    .slice(1)
    .map((m) => (m.trimStart().split(/\n-{20,}/)[0] ?? ''))
    .filter((m) => firstLine.test(m.split('\n')[0] ?? ''));
}

describe.each(['udp', 'tcp'] as const)('srf dialogs over %s', (transport) => {
  it('SUBSCRIBE: the 202 names the dialog, srf sends NOTIFYs in it, terminated ends it', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    let notified = false;
    onSubscribe(srf, (req, res) => {
      void createUas(srf, req, res).then(async (dlg) => {
        await dlg.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active' } });
        await dlg.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'terminated' } });
        notified = true;
      });
    });
    const sub = await startSipp({ scenario: 'edge/uac-subscribe.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await sub.done;
    expectSuccess(r, 'subscriber');
    await waitFor(() => notified, 2000, 'NOTIFYs answered');
    const notify = received(r, /^NOTIFY /)[0] ?? '';
    // the dialog's remote target and tags (RFC 6665 4.1.2)
    expect(notify.split('\n')[0]).toMatch(/^NOTIFY sip:sipp@127\.0\.0\.1:\d+/);
    expect(notify).toMatch(/^To: .*tag=/m);
    expect(notify).toMatch(/^Contact: <sip:/m);
    await waitFor(() => h!.edge.stats().dialogs === 0, 2000, 'dialog ended by the terminated NOTIFY');
  });

  it('a BYE challenged with 401 is sent again with credentials in the same dialog', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'edge/uas-bye-challenge.xml', transport, timeoutSec: 15 });
    const uri = `sip:callee@127.0.0.1:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    const uac = await srf.createUAC(uri, { localSdp: SDP, auth: { username: 'foo', password: 'bar' } });
    await uac.destroy();
    const r = await callee.done;
    expectSuccess(r, 'callee');
    const byes = received(r, /^BYE /);
    expect(byes).toHaveLength(2);
    const cseq = (m: string) => Number(/^CSeq: (\d+) BYE/m.exec(m)?.[1]);
    expect(cseq(byes[1]!)).toBe(cseq(byes[0]!) + 1);
    await waitFor(() => h!.edge.stats().dialogs === 0, 2000, 'dialog gone after the BYE succeeded');
  });

  it('rewrites an app Contact at localhost to the edge and writes it with <>, in responses and requests', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: { builtin: 'uas' }, transport, timeoutSec: 15 });
    const uri = `sip:callee@127.0.0.1:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    srf.invite((req, res) => {
      srf
        .createB2BUA(req, res, uri, { localSdpB: req.body, headers: { Contact: 'sip:foo@localhost' }, responseHeaders: { Contact: 'sip:bar@localhost;x=1' } })
        .then(({ uas, uac }) => {
          uas.on('destroy', () => void uac.destroy());
        })
        .catch(() => undefined);
    });
    const caller = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, 'caller');
    const { port } = h.edge.sipAddress;
    const ok = received(rc, /^SIP\/2\.0 200/)[0] ?? '';
    expect(ok).toMatch(new RegExp(`^Contact: <sip:bar@127\\.0\\.0\\.1:${port}>;x=1`, 'm'));
    const invite = received(re, /^INVITE /)[0] ?? '';
    expect(invite).toMatch(new RegExp(`^Contact: <sip:foo@127\\.0\\.0\\.1:${port}>`, 'm'));
  });

  it('puts the edge Contact on a 180 the app sent without one (RFC 3261 12.1.1)', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    srf.invite((req, res) => {
      res.send(180);
      setTimeout(() => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined), 30);
    });
    const caller = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await caller.done;
    expectSuccess(r, 'caller');
    const ringing = received(r, /^SIP\/2\.0 180/)[0] ?? '';
    expect(ringing).toMatch(/^To: .*;tag=/m);
    expect(ringing).toMatch(new RegExp(`^Contact: <sip:127\\.0\\.0\\.1:${h.edge.sipAddress.port}${transport === 'tcp' ? ';transport=tcp' : ''}>`, 'm'));
  });
});
