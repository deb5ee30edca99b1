/**
 * Thousands of random and mutated SIP messages over UDP and TCP (and garbage on the wire port);
 * afterwards the edge must still complete a normal call with a real srf app and sipp.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startEdgeHarness, SDP, type EdgeHarness } from '../support/edge-harness.ts';
import { fuzzMessage, seededRandom } from '../support/sip-fuzz.ts';
import { describeSipp, startSipp, stopAllSipp } from '../support/sipp.ts';

let h: EdgeHarness | undefined;
const sockets: Array<net.Socket | dgram.Socket> = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) {
    if (s instanceof net.Socket) s.destroy();
    else s.close();
  }
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

async function fuzzUdp(host: string, port: number, count: number, seed: number): Promise<string[]> {
  const replies: string[] = [];
  const rand = seededRandom(seed);
  const sock = dgram.createSocket('udp4');
  sockets.push(sock);
  sock.on('error', () => undefined);
  sock.on('message', (m: Buffer) => replies.push(m.toString('utf8').split('\r\n')[0] ?? ''));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < count; i++) {
    const msg = fuzzMessage(rand, i, host, port).subarray(0, 65_000);
    await new Promise<void>((r) => sock.send(msg, port, host, () => r()));
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  return replies;
}

async function fuzzTcp(host: string, port: number, count: number, seed: number): Promise<void> {
  const rand = seededRandom(seed);
  let sock: net.Socket | undefined;
  for (let i = 0; i < count; i++) {
    if (!sock || sock.destroyed || !sock.writable) {
      sock = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port }, () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
        s.on('data', () => undefined);
      });
      sockets.push(sock);
    }
    const s = sock;
    await new Promise<void>((r) => s.write(fuzzMessage(rand, 10_000 + i, host, port), () => r()));
    // Now and then a fresh connection, so both framing recovery and resets are exercised.
    if (rand() < 0.05) s.destroy();
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
}

async function fuzzWire(host: string, port: number, seed: number): Promise<void> {
  const rand = seededRandom(seed);
  const junk = ['hello', '5#abc', '3#a|b|c', '99999999#', '0#', '#', '10#😀😀😀', `12#x|authenticate`, '4#\u0000\u0001\u0002\u0003'];
  for (let i = 0; i < 40; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.write(junk[Math.floor(rand() * junk.length)]!);
        s.write(Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))));
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 5);
      });
      s.on('error', () => resolve());
      sockets.push(s);
    });
  }
}

it('survives thousands of malformed messages over UDP, TCP and the wire port, then completes a call', async () => {
  h = await startEdgeHarness();
  const { host, port } = h.edge.sipAddress;
  const [udpReplies] = await Promise.all([fuzzUdp(host, port, 3000, 1), fuzzTcp(host, port, 1500, 2), fuzzWire(h.edge.wireAddress.host, h.edge.wireAddress.port, 3)]);
  // let the replies to the fuzz drain before the real call
  await new Promise((r) => setTimeout(r, 300));

  const srf = await h.connectApp();
  let answered = 0;
  srf.invite((req, res) => {
    answered++;
    void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
  });
  for (const transport of ['udp', 'tcp'] as const) {
    const uac = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expect(r.code, describeSipp(r)).toBe(0);
  }
  expect(answered).toBe(2);
  // The malformed requests that could be answered were answered 400, the rest dropped.
  expect(h.logs.lines.some((l) => l.msg === 'sip message malformed')).toBe(true);
  expect(udpReplies.some((l) => l.startsWith('SIP/2.0 400'))).toBe(true);
  expect(udpReplies.some((l) => l.startsWith('SIP/2.0 503'))).toBe(true);
}, 60_000);
