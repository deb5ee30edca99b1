/**
 * Where the edge sends its UDP responses (RFC 3261 18.2.2, RFC 3581): to the packet's source,
 * whatever `received` the sender wrote; to the source port with rport, to the sent-by port
 * without; a 400 for a malformed request too. A forged `received=` must not aim the answer at
 * a third party (a reflection): a listener at the forged address gets nothing.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdgeHarness, type EdgeHarness } from '../support/edge-harness.ts';
import { buildRequest, headerOf, RawSipPeer } from './raw-sip-peer.ts';

let h: EdgeHarness | undefined;
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await h?.close();
  h = undefined;
});

/** A UDP socket that only counts what reaches it (the third party). */
async function listener(host: string, port = 0): Promise<{ port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve());
  });
  const got: Buffer[] = [];
  sock.on('message', (d) => got.push(d));
  closers.push(() => sock.close());
  return { port: sock.address().port, got };
}

async function open(): Promise<{ h: EdgeHarness; peer: RawSipPeer }> {
  h = await startEdgeHarness();
  const peer = await RawSipPeer.open('udp', h.edge.sipAddress);
  closers.push(() => peer.close());
  return { h, peer };
}

describe('UDP response addressing', () => {
  it('answers at the real source when the Via carries a forged received (rport): nothing at the forged address', async () => {
    const { h, peer } = await open();
    const victim = await listener('127.0.0.2');
    const req = buildRequest({ method: 'OPTIONS', peer }, h.edge.sipAddress);
    const text = req.text.replace(/^Via: .*$/m, `Via: SIP/2.0/UDP 127.0.0.2:${victim.port};rport;received=127.0.0.2;branch=${req.branch}`);
    peer.send(text);
    const res = await peer.finalResponse(req.callId);
    expect(res.status).toBe(503);
    // the Via tells the truth now: received is the source, rport its port (RFC 3581 4)
    expect(headerOf(res, 'via')).toBe(`SIP/2.0/UDP 127.0.0.2:${victim.port};rport=${peer.port};branch=${req.branch};received=127.0.0.1`);
    await new Promise((r) => setTimeout(r, 300));
    expect(victim.got).toHaveLength(0);
  });

  it('without rport: to the source address and the sent-by port, never to the received= address', async () => {
    const { h, peer } = await open();
    // the port the sent-by names, on the source address, and the same port on the forged address
    const atSource = await listener('127.0.0.1');
    const victim = await listener('127.0.0.2', atSource.port);
    const req = buildRequest({ method: 'OPTIONS', peer }, h.edge.sipAddress);
    peer.send(req.text.replace(/^Via: .*$/m, `Via: SIP/2.0/UDP 127.0.0.2:${atSource.port};received=127.0.0.2;branch=${req.branch}`));
    const deadline = Date.now() + 3000;
    while (atSource.got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(atSource.got.map((b) => b.toString().split('\r\n')[0])).toEqual(['SIP/2.0 503 Service Unavailable']);
    expect(atSource.got[0]?.toString()).toContain(`;received=127.0.0.1`);
    await new Promise((r) => setTimeout(r, 200));
    expect(victim.got).toHaveLength(0);
    expect(peer.received).toHaveLength(0);
  });

  it('sends the 400 for a malformed request to its source, not to the forged received=', async () => {
    const { h, peer } = await open();
    const victim = await listener('127.0.0.2');
    const req = buildRequest({ method: 'OPTIONS', peer, cseq: 1 }, h.edge.sipAddress);
    const broken = req.text
      .replace(/^Via: .*$/m, `Via: SIP/2.0/UDP 127.0.0.2:${victim.port};rport;received=127.0.0.2;branch=${req.branch}`)
      .replace(/^CSeq: .*$/m, 'CSeq: 1 INVITE');
    peer.send(broken);
    const res = await peer.finalResponse(req.callId);
    expect(res.status).toBe(400);
    expect(headerOf(res, 'via')).toBe(`SIP/2.0/UDP 127.0.0.2:${victim.port};rport=${peer.port};branch=${req.branch};received=127.0.0.1`);
    await new Promise((r) => setTimeout(r, 200));
    expect(victim.got).toHaveLength(0);
  });
});
