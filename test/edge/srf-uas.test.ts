/**
 * A real drachtio-srf application acting as UAS behind the edge, with sipp as the caller,
 * over UDP and TCP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, SDP, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp, type SippResult } from '../support/sipp.ts';

let h: EdgeHarness | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

function expectSuccess(r: SippResult, harness: EdgeHarness): void {
  expect(r.code, `${describeSipp(r)}\n--- edge log\n${harness.logs.text().slice(-4000)}`).toBe(0);
}

function countReceived(messages: string, firstLine: RegExp): number {
  // sipp's -trace_msg log: "----- UDP message received [N] bytes :" followed by the message
  return messages.split(/message received[^\n]*\n/).slice(1).filter((m) => firstLine.test(m.trimStart().split('\n')[0] ?? '')).length;
}

describe.each(['udp', 'tcp'] as const)('srf UAS over %s', (transport) => {
  it('answers 200: the sipp caller completes INVITE/ACK/BYE', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const events: string[] = [];
    srf.invite((req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((dialog) => {
        events.push('dialog');
        dialog.on('ack', () => events.push('ack'));
        dialog.on('destroy', () => events.push('destroy'));
      });
    });
    const uac = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    expectSuccess(await uac.done, h);
    await waitFor(() => events.includes('destroy'), 2000, 'dialog destroy');
    expect(events).toEqual(['dialog', 'ack', 'destroy']);
  });

  it('rejects with 486: the caller gets it and ACKs', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    let invites = 0;
    srf.invite((_req, res) => {
      invites++;
      res.send(486);
    });
    const uac = await startSipp({ scenario: 'uac-486.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expectSuccess(r, h);
    expect(invites).toBe(1);
    expect(r.messages).toMatch(/SIP\/2\.0 486 Busy Here/);
  });

  it.each([
    ['before any provisional', 'uac-cancel-early.xml', false],
    ['after 180 Ringing', 'uac-cancel-ringing.xml', true],
  ])('CANCEL %s: 200 + 487 to the caller, cancel event to the app, late answer refused', async (_name, scenario, ring) => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    let cancelled = false;
    let lateAnswer: unknown = 'not tried';
    srf.invite((req, res) => {
      if (ring) res.send(180);
      req.on('cancel', () => {
        cancelled = true;
        // The edge already answered 487; the app's own final response must be refused.
        // srf's own signature is send(status, opts, callback); its type declarations lack it.
        (res.send as unknown as (s: number, o: object, cb: (err: unknown) => void) => void)(200, { body: SDP }, (err) => {
          lateAnswer = err;
        });
      });
    });
    const uac = await startSipp({ scenario, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expectSuccess(r, h);
    await waitFor(() => lateAnswer !== 'not tried', 2000, 'late answer result');
    expect(cancelled).toBe(true);
    expect(String(lateAnswer)).toMatch(/cancel/i);
    expect(r.messages).toMatch(/SIP\/2\.0 487 Request Terminated/);
  });

  it('absorbs a retransmitted INVITE: the app sees one request', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    let invites = 0;
    srf.invite((req, res) => {
      invites++;
      // answer a little later so the copy arrives while the app is deciding
      setTimeout(() => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined), 300);
    });
    const uac = await startSipp({ scenario: 'uac-invite-retransmit.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    expectSuccess(await uac.done, h);
    expect(invites).toBe(1);
  });

});

describe.each(['udp', 'tcp'] as const)('srf UAS with a slow caller over %s', (transport) => {
  it('retransmits the 200 until the late ACK arrives over UDP only, then the call completes', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
    const uac = await startSipp({ scenario: 'uac-slow-ack.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expectSuccess(r, h);
    const copies = countReceived(r.messages, /^SIP\/2\.0 200/);
    // T1 = 50 ms, the ACK comes after 700 ms: over UDP several copies of the 200 reached sipp
    // (Timer G); over TCP exactly one 200 for the INVITE and one for the BYE (drachtio-server
    // starts Timer G only for datagram transports, and sipp over TCP aborts on a repeated 200).
    if (transport === 'udp') expect(copies).toBeGreaterThanOrEqual(3);
    else expect(copies).toBe(2);
  });
});

describe.each(['udp', 'tcp'] as const)('srf UAS with a caller that never ACKs over %s', (transport) => {
  it('BYEs the caller after Timer H with Reason: ACK timeout and tells the app (unsolicited BYE)', async () => {
    h = await startEdgeHarness({ t1Ms: 20, t2Ms: 160, t4Ms: 200 }); // Timer H = 64*T1 = 1.28 s
    const srf = await h.connectApp();
    const events: string[] = [];
    srf.invite((req, res) => {
      srf
        .createUAS(req, res, { localSdp: SDP })
        .then((d) => {
          d.on('ack', () => events.push('ack'));
          d.on('destroy', (bye?: { get: (n: string) => string }) => events.push(`destroy:${bye?.get('Reason') ?? ''}`));
        })
        .catch(() => events.push('failed'));
    });
    const uac = await startSipp({ scenario: 'uac-no-ack.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expectSuccess(r, h);
    expect(r.messages).toMatch(/^Reason: SIP;cause=200;text="ACK timeout"/m);
    await waitFor(() => events.length > 0, 2000, 'destroy');
    expect(events).toEqual(['destroy:SIP;cause=200;text="ACK timeout"']);
    expect(h.edge.stats().dialogs).toBe(0);
  });
});

describe('srf UAS with a lossy caller over udp', () => {
  // UDP only: sipp's -lost drops messages before sending them; over TCP nothing retransmits a
  // dropped message (RFC 3261 17.1.1.2: no Timer A on reliable transports), so the call cannot
  // complete whatever the edge does.
  it('completes every call with sipp losing 10% of its packets', async () => {
    // The edge on sipp's own T1 (500 ms, RFC 3261's default): with the harness's short T1,
    // Timer J (64·T1) ended a BYE's server transaction before sipp's third retransmission of
    // that BYE (after two lost 200s, 3.5 s on), which then rightly got 481.
    h = await startEdgeHarness({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
    const uac = await startSipp({
      scenario: { builtin: 'uac' },
      transport: 'udp',
      remote: h.edge.sipAddress,
      calls: 5,
      rate: 5,
      timeoutSec: 25,
      extraArgs: ['-lost', '10'],
    });
    const r = await uac.done;
    expectSuccess(r, h);
  }, 40_000);
});
