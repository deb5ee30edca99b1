/**
 * The edge under load and when applications misbehave: hundreds of calls leave no transaction,
 * dialog or relay record behind once the RFC 3261 timers have run; garbage on the wire port
 * costs only that connection.
 */
import net from 'node:net';
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

function expectSuccess(r: SippResult, harness: EdgeHarness, who = 'sipp'): void {
  expect(r.code, `${who}: ${describeSipp(r)}\n--- edge log\n${harness.logs.text().slice(-4000)}`).toBe(0);
}

const ZERO = { clientTransactions: 0, serverTransactions: 0, dialogs: 0, inbound: 0, outbound: 0, retransmitters: 0, cancelled: 0 };
/** T1 = 20 ms: every transaction timer (64*T1, T4) has run 1.3 s after the last message. */
const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 200 };

describe.each(['udp', 'tcp'] as const)('edge bookkeeping over %s', (transport) => {
  it('drains to zero transactions, dialogs and relay records after 300 calls (UAS and B2BUA)', async () => {
    h = await startEdgeHarness(FAST);
    const srf: Srf = await h.connectApp();
    const callee = await startSipp({ scenario: { builtin: 'uas' }, transport, calls: 150, timeoutSec: 30 });
    const calleeUri = `sip:callee@127.0.0.1:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    let failed = 0;
    let n = 0;
    srf.invite((req, res) => {
      // every other call is answered here, the rest bridged to the sipp uas
      const bridge = ++n % 2 === 0;
      const p = bridge
        ? srf.createB2BUA(req, res, calleeUri, { localSdpB: req.body }).then(({ uas, uac }) => {
            uas.on('destroy', () => uac.destroy());
            uac.on('destroy', () => uas.destroy());
          })
        : srf.createUAS(req, res, { localSdp: SDP });
      p.catch(() => failed++);
    });
    const caller = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, calls: 300, rate: 100, timeoutSec: 30 });
    const rc = await caller.done;
    expectSuccess(rc, h, 'caller');
    await callee.stop();
    expect(failed).toBe(0);
    const edge = h.edge;
    await waitFor(() => JSON.stringify(edge.stats()) === JSON.stringify(ZERO), 8000, `edge to drain (now ${JSON.stringify(edge.stats())})`).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}: ${JSON.stringify(edge.stats())}`);
      },
    );
    expect(edge.stats()).toEqual(ZERO);
  }, 60_000);

});

describe('garbage from an application', () => {
  it('costs only that connection: the edge stays up and a real app still places calls', async () => {
    h = await startEdgeHarness();
    const { host, port } = h.edge.wireAddress;
    const junk = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('99999999#x'),
      Buffer.from([0xff, 0xfe, 0x00, 0x23, 0x31]),
    ];
    for (const bytes of junk) {
      const sock = net.connect(port, host);
      sock.on('error', () => undefined);
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(bytes);
      await closed;
    }
    // well-framed nonsense and commands before authentication are answered, not fatal
    const sock = net.connect(port, host);
    sock.on('error', () => undefined);
    let replies = '';
    sock.on('data', (d) => (replies += d.toString()));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    for (const p of ['hello', 'abc|sip|x|y\r\nINVITE nonsense', 'def|ping']) sock.write(`${Buffer.byteLength(p)}#${p}`);
    await waitFor(() => (replies.match(/\|NOK\|/g) ?? []).length >= 2, 2000, 'NOK replies');
    expect(replies).toMatch(/\|response\|abc\|NOK\|not authenticated/);
    sock.destroy();

    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
    const uac = await startSipp({ scenario: { builtin: 'uac' }, transport: 'udp', remote: h.edge.sipAddress, timeoutSec: 10 });
    expectSuccess(await uac.done, h);
  });
});
