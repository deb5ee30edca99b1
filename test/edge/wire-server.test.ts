/** The wire-protocol session: authentication, routes, ping, and what happens when apps come and go. */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { encodeFrame, FrameDecoder } from '../../src/edge/wire/framing.ts';
import { connectSrf, disconnectSrf, startEdgeHarness, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { validInvite } from '../support/sip-fuzz.ts';
import { stopAllSipp } from '../support/sipp.ts';

let h: EdgeHarness | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await stopAllSipp();
  await h?.close();
  h = undefined;
});

/** A raw wire client: sends frames, collects replies, notices the close. */
async function rawClient(address: { host: string; port: number }) {
  const sock = net.connect(address);
  cleanup.push(() => sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const decoder = new FrameDecoder(100_000);
  const frames: string[] = [];
  let closed = false;
  sock.on('data', (d) => {
    for (const f of decoder.push(d)) if (f.ok) frames.push(f.payload);
  });
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  return {
    send: (payload: string) => sock.write(encodeFrame(payload)),
    frames,
    closed: () => closed,
  };
}

/** Sends one SIP request over UDP and returns the status lines received within `ms`. */
async function udpRequest(to: { host: string; port: number }, text: string, ms = 400): Promise<string[]> {
  const sock = dgram.createSocket('udp4');
  cleanup.push(() => sock.close());
  const lines: string[] = [];
  sock.on('message', (m) => lines.push(m.toString('utf8').split('\r\n')[0] ?? ''));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.send(text, to.port, to.host);
  await new Promise((r) => setTimeout(r, ms));
  return lines;
}

it('authenticates with the right secret and reports the SIP addresses', async () => {
  h = await startEdgeHarness();
  const srf = new Srf();
  cleanup.push(() => disconnectSrf(srf));
  const hostport = await connectSrf(srf, h.edge.wireAddress, 'cymru-test-secret');
  expect(hostport).toBe(`udp/127.0.0.1:${h.edge.sipAddress.port},tcp/127.0.0.1:${h.edge.sipAddress.port}`);
});

it('answers a wrong secret with NOK and disconnects', async () => {
  h = await startEdgeHarness();
  const c = await rawClient(h.edge.wireAddress);
  c.send('m1|authenticate|wrong-secret|');
  await waitFor(() => c.closed(), 2000, 'disconnect');
  expect(c.frames).toHaveLength(1);
  expect(c.frames[0]).toMatch(/^[^|]+\|response\|m1\|NOK\|incorrect secret$/);

  const srf = new Srf();
  cleanup.push(() => disconnectSrf(srf));
  await expect(connectSrf(srf, h.edge.wireAddress, 'nope')).rejects.toThrow(/authenticate/);
});

it('refuses commands before authentication and answers ping after it', async () => {
  h = await startEdgeHarness();
  const c = await rawClient(h.edge.wireAddress);
  c.send('m0|route|invite');
  c.send('m1|authenticate|cymru-test-secret|tag1');
  c.send('m2|ping');
  c.send('m3|proxy|x');
  await waitFor(() => c.frames.length >= 4, 2000, 'replies');
  expect(c.frames[0]).toMatch(/\|response\|m0\|NOK\|not authenticated$/);
  expect(c.frames[1]).toMatch(/\|response\|m1\|OK\|udp\//);
  expect(c.frames[2]).toMatch(/\|response\|m2\|OK\|pong$/);
  expect(c.frames[3]).toMatch(/\|response\|m3\|NOK\|/);
  expect(c.closed()).toBe(false);
});

it('answers 503 when no app routed the method, and again once the only app left', async () => {
  h = await startEdgeHarness();
  const sip = h.edge.sipAddress;
  const invite = (n: number) => validInvite(n, sip.host, sip.port);
  expect(await udpRequest(sip, invite(1))).toContain('SIP/2.0 503 Service Unavailable');

  const srf = await h.connectApp();
  srf.invite((_req, res) => res.send(486));
  await waitFor(() => h!.logs.lines.some((l) => l.msg === 'app route changed'), 2000, 'route');
  expect(await udpRequest(sip, invite(2))).toContain('SIP/2.0 486 Busy Here');

  disconnectSrf(srf);
  await waitFor(() => h!.logs.lines.some((l) => l.msg === 'app disconnected'), 2000, 'disconnect');
  expect(await udpRequest(sip, invite(3))).toContain('SIP/2.0 503 Service Unavailable');
});

it('answers 481 to a BYE for an unknown dialog', async () => {
  h = await startEdgeHarness();
  const sip = h.edge.sipAddress;
  const bye = validInvite(7, sip.host, sip.port)
    
    .replace(/^INVITE /, 'BYE ')
    .replace('CSeq: 1 INVITE', 'CSeq: 2 BYE')
    .replace(/^(To: [^\r]*)/m, '$1;tag=nosuchdialog');
  expect(await udpRequest(sip, bye)).toContain('SIP/2.0 481 Call/Transaction Does Not Exist');
});

it('shares INVITEs round robin between two apps', async () => {
  h = await startEdgeHarness();
  const seen: string[] = [];
  for (const name of ['one', 'two']) {
    const srf = await h.connectApp();
    srf.invite((_req, res) => {
      seen.push(name);
      res.send(486);
    });
  }
  await waitFor(() => h!.logs.lines.filter((l) => l.msg === 'app route changed').length >= 2, 2000, 'routes');
  const sip = h.edge.sipAddress;
  for (let i = 0; i < 4; i++) await udpRequest(sip, validInvite(20 + i, sip.host, sip.port), 100);
  expect(seen.sort()).toEqual(['one', 'one', 'two', 'two']);
});

