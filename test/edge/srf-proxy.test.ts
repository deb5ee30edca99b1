/**
 * srf.proxyRequest through the edge (docs/edge.md §7), as drachtio-server proxies: serial
 * forking onto the next destination after a failure, simultaneous forking with the losers
 * cancelled, with Record-Route (ACK and BYE come through the edge) and without (they do not).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startEdgeHarness, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { describeSipp, startSipp, stopAllSipp, type SippResult, type SippRun } from '../support/sipp.ts';

let h: EdgeHarness | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

function expectSuccess(r: SippResult, who: string): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${h?.logs.text().slice(-5000)}`).toBe(0);
}

function received(r: SippResult, firstLine: RegExp): string[] {
  return r.messages
    .split(/message received[^\n]*\n/)
    .slice(1)
    .map((m) => (m.trimStart().split(/\n-{20,}/)[0] ?? ''))
    .filter((m) => firstLine.test(m.split('\n')[0] ?? ''));
}

interface ProxyResult {
  connected: boolean;
  finalStatus?: number;
}
type ProxyRequest = (req: unknown, dest: string | string[], opts: Record<string, unknown>) => Promise<ProxyResult>;

function dest(run: SippRun, transport: 'udp' | 'tcp'): string {
  return `sip:callee@127.0.0.1:${run.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

describe.each(['udp', 'tcp'] as const)('srf.proxyRequest over %s', (transport) => {
  it('serial: the first destination refuses (503), the second answers; with Record-Route the ACK and BYE pass the edge', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const refuser = await startSipp({ scenario: 'edge/uas-reject-503.xml', transport, timeoutSec: 15 });
    const answerer = await startSipp({ scenario: 'edge/uas-answer-rr.xml', transport, timeoutSec: 15 });
    let result: ProxyResult | undefined;
    srf.invite((req) => {
      void (srf.proxyRequest as unknown as ProxyRequest).call(srf, req, [dest(refuser, transport), dest(answerer, transport)], { remainInDialog: true }).then((r) => (result = r));
    });
    const caller = await startSipp({ scenario: 'edge/uac-rr.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, r1, r2] = await Promise.all([caller.done, refuser.done, answerer.done]);
    expectSuccess(rc, 'caller');
    expectSuccess(r1, 'refuser');
    expectSuccess(r2, 'answerer');
    await waitFor(() => result !== undefined, 2000, 'proxy result');
    expect(result).toMatchObject({ connected: true, finalStatus: 200 });
    const { port } = h.edge.sipAddress;
    const invite = received(r2, /^INVITE /)[0] ?? '';
    expect(invite).toMatch(new RegExp(`^Record-Route: <sip:127\\.0\\.0\\.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''};lr>`, 'm'));
    expect(invite).toMatch(/^Max-Forwards: 69/m);
    expect(invite).toMatch(/^Via: SIP\/2\.0\/(UDP|TCP) 127\.0\.0\.1:\d+;rport;branch=z9hG4bK/m);
    // the caller's ACK and BYE reached the callee through the edge (its Via on top)
    for (const m of [/^ACK /, /^BYE /]) expect(received(r2, m)[0]).toMatch(new RegExp(`^Via: SIP/2\\.0/${transport.toUpperCase()} 127\\.0\\.0\\.1:${port}`, 'm'));
    // and the 200 reached the caller without the edge's Via, with the Record-Route
    const ok = received(rc, /^SIP\/2\.0 200/)[0] ?? '';
    expect(ok).toMatch(/^Record-Route: /m);
    expect(ok.match(/^Via: /gm), ok).toHaveLength(1);
    expect(h.edge.stats().dialogs).toBe(0);
  });

  it('simultaneous: both destinations ring, one answers, the other is cancelled', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const ringer = await startSipp({ scenario: 'uas-ring-cancelled.xml', transport, timeoutSec: 15 });
    const answerer = await startSipp({ scenario: 'edge/uas-answer-rr.xml', transport, timeoutSec: 15 });
    srf.invite((req) => {
      void (srf.proxyRequest as unknown as ProxyRequest).call(srf, req, [dest(ringer, transport), dest(answerer, transport)], { forking: 'simultaneous', remainInDialog: true });
    });
    const caller = await startSipp({ scenario: 'edge/uac-rr.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, r1, r2] = await Promise.all([caller.done, ringer.done, answerer.done]);
    expectSuccess(rc, 'caller');
    expectSuccess(r1, 'ringer (cancelled)');
    expectSuccess(r2, 'answerer');
    expect(received(rc, /^SIP\/2\.0 487/)).toHaveLength(0);
  });

  it('without Record-Route the edge leaves the dialog to the endpoints', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const answerer = await startSipp({ scenario: 'edge/uas-answer-no-ack.xml', transport, timeoutSec: 15 });
    srf.invite((req) => void (srf.proxyRequest as unknown as ProxyRequest).call(srf, req, dest(answerer, transport), {}));
    const caller = await startSipp({ scenario: 'edge/uac-no-rr.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, ra] = await Promise.all([caller.done, answerer.done]);
    expectSuccess(rc, 'caller');
    expectSuccess(ra, 'answerer');
    expect(h.edge.stats().dialogs).toBe(0);
  });

  it('every destination fails: the best failure goes upstream (486 over 503, RFC 3261 16.7 step 6)', async () => {
    h = await startEdgeHarness();
    const srf: Srf = await h.connectApp();
    const a = await startSipp({ scenario: 'edge/uas-reject-503.xml', transport, timeoutSec: 15 });
    const b = await startSipp({ scenario: 'edge/uas-reject-486.xml', transport, timeoutSec: 15 });
    let result: ProxyResult | undefined;
    srf.invite((req) => {
      void (srf.proxyRequest as unknown as ProxyRequest).call(srf, req, [dest(a, transport), dest(b, transport)], {}).then((r) => (result = r));
    });
    const caller = await startSipp({ scenario: 'uac-486.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const [rc, ra, rb] = await Promise.all([caller.done, a.done, b.done]);
    expectSuccess(rc, 'caller');
    expectSuccess(ra, '503 destination');
    expectSuccess(rb, '486 destination');
    await waitFor(() => result !== undefined, 5000, 'proxy result');
    expect(result).toMatchObject({ connected: false, finalStatus: 486 });
  });
});
