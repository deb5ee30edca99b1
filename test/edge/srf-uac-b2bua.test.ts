/**
 * drachtio-srf placing calls through the edge (createUAC) and bridging them (createB2BUA), with
 * sipp as callee and caller, over UDP and TCP.
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

function expectSuccess(r: SippResult, harness: EdgeHarness, who: string): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${harness.logs.text().slice(-4000)}`).toBe(0);
}

function uriOf(port: number, transport: 'udp' | 'tcp', user = 'callee'): string {
  return `sip:${user}@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

describe.each(['udp', 'tcp'] as const)('srf UAC and B2BUA over %s', (transport) => {
  it('createUAC places a call to a sipp callee and hangs up', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const uas = await startSipp({ scenario: 'uas-answer.xml', transport, timeoutSec: 15 });
    const dialog = await srf.createUAC(uriOf(uas.port, transport), { localSdp: SDP });
    expect(dialog.sip.remoteTag).toBeTruthy();
    await new Promise((r) => setTimeout(r, 100));
    dialog.destroy();
    const r = await uas.done;
    expectSuccess(r, h, 'callee');
    expect(r.messages).toMatch(/^BYE sip:/m);
  });

  it('req.cancel({headers}) sends the app\'s Reason header on the CANCEL, as drachtio-server does', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const uas = await startSipp({ scenario: 'uas-ring-cancelled.xml', transport, timeoutSec: 15 });
    let sent: { cancel: (opts: object, cb: (err: unknown) => void) => void } | undefined;
    const cancelErr: unknown[] = [];
    const failure = await srf
      // srf calls cbRequest(err, req) at runtime; its type declarations say (req)
      .createUAC(uriOf(uas.port, transport), { localSdp: SDP }, {
        cbRequest: ((_err: unknown, req: unknown) => (sent = req as typeof sent)) as unknown as (req: unknown) => void,
        cbProvisional: () =>
          sent?.cancel({ headers: { Reason: 'SIP;cause=200;text="Call completed elsewhere"', 'X-Cancel-Cause': 'test' } }, (err) => cancelErr.push(err)),
      } as Parameters<Srf['createUAC']>[2])
      .then(
        () => undefined,
        (e: unknown) => e as { status?: number },
      );
    expect(failure?.status).toBe(487);
    const r = await uas.done;
    expectSuccess(r, h, 'callee');
    const cancel = /^CANCEL sip:[\s\S]*?\r?\n\r?\n/m.exec(r.messages)?.[0] ?? '';
    expect(cancel).toMatch(/^Reason: SIP;cause=200;text="Call completed elsewhere"\r?$/m);
    expect(cancel).toMatch(/^X-Cancel-Cause: test\r?$/m);
    expect(cancelErr).toEqual([null]);
  });

  it('createUAC to a callee that never answers fails with 408 after Timer B', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const uas = await startSipp({ scenario: 'uas-silent.xml', transport, timeoutSec: 30 });
    const err = await srf.createUAC(uriOf(uas.port, transport), { localSdp: SDP }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(408);
    await uas.stop();
  }, 15_000);

  it('createUAC to a closed port fails with 503 over tcp or 408 over udp', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const { freePort } = await import('../support/free-port.ts');
    const port = await freePort();
    const err = await srf.createUAC(uriOf(port, transport), { localSdp: SDP }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    // UDP gives no signal of a closed port (unless ICMP is reported); TCP refuses the connection.
    expect(err?.status).toBe(transport === 'tcp' ? 503 : 408);
  }, 15_000);

  it.each([
    ['the caller', { builtin: 'uac' } as const, 'uas-answer.xml'],
    ['the callee', 'uac-wait-bye.xml', 'uas-bye.xml'],
  ])('createB2BUA bridges a sipp caller to a sipp callee; %s hangs up', async (_who, callerScenario, calleeScenario) => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: calleeScenario, transport, timeoutSec: 15 });
    const ended: string[] = [];
    srf.invite((req, res) => {
      srf
        .createB2BUA(req, res, uriOf(callee.port, transport), { localSdpB: req.body })
        .then(({ uas, uac }) => {
          uas.on('destroy', () => {
            ended.push('a');
            uac.destroy();
          });
          uac.on('destroy', () => {
            ended.push('b');
            uas.destroy();
          });
        })
        .catch(() => ended.push('failed'));
    });
    const caller = await startSipp({ scenario: callerScenario, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, h, 'caller');
    expectSuccess(re, h, 'callee');
    await waitFor(() => ended.length > 0, 2000, 'a leg to end');
    expect(ended).toEqual([typeof callerScenario === 'string' ? 'b' : 'a']);
  });

  it('createB2BUA passes a CANCEL from the caller on to the callee', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: 'uas-ring-cancelled.xml', transport, timeoutSec: 15 });
    let failure: unknown;
    srf.invite((req, res) => {
      srf.createB2BUA(req, res, uriOf(callee.port, transport), { localSdpB: req.body }).catch((e: unknown) => (failure = e));
    });
    const caller = await startSipp({ scenario: 'uac-cancel-ringing.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, re] = await Promise.all([caller.done, callee.done]);
    expectSuccess(rc, h, 'caller');
    expectSuccess(re, h, 'callee');
    await waitFor(() => failure !== undefined, 2000, 'B2BUA to fail');
    expect((failure as { status?: number }).status).toBe(487);
  });
});
