import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import type { SipMessage, SipRequest } from './message.ts';
import { getHeader } from './message.ts';
import { parseMessage } from './parser.ts';
import { SipTransport } from './transport.ts';
import type { Flow } from './transport.ts';

const MAX = 4096;

function options(callId: string, body = ''): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:edge@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1',
      'From: <sip:a@127.0.0.1>;tag=1',
      'To: <sip:edge@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

function parseOptions(d: Buffer): SipMessage {
  const r = parseMessage(d, MAX);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function startTransport(opts: { tcpIdleTimeoutMs?: number } = {}): Promise<{ t: SipTransport; got: Array<{ msg: SipMessage; flow: Flow }>; bad: Array<{ reason: string; partial?: SipRequest }> }> {
  const t = new SipTransport({ host: '127.0.0.1', port: 0, maxMessageBytes: MAX, logger: createCapturingLogger().logger, ...opts });
  await t.listen();
  open.push(t);
  const got: Array<{ msg: SipMessage; flow: Flow }> = [];
  const bad: Array<{ reason: string; partial?: SipRequest }> = [];
  t.on('message', (msg, flow) => got.push({ msg, flow }));
  t.on('malformed', (reason, _flow, partial) => bad.push(partial ? { reason, partial } : { reason }));
  return { t, got, bad };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function tcpClient(port: number): Promise<{ sock: net.Socket; data: () => string }> {
  const sock = net.connect(port, '127.0.0.1');
  open.push({ close: () => sock.destroy() });
  let received = '';
  sock.on('data', (d) => (received += d.toString()));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, data: () => received };
}

describe('SipTransport', () => {
  it('listens on one port for UDP and TCP', async () => {
    const { t, got } = await startTransport();
    expect(t.address.port).toBeGreaterThan(0);
    const udp = dgram.createSocket('udp4');
    open.push({ close: () => new Promise<void>((r) => udp.close(() => r())) });
    udp.send(options('u1'), t.address.port, '127.0.0.1');
    const { sock } = await tcpClient(t.address.port);
    sock.write(options('t1'));
    await until(() => got.length === 2, 'two messages');
    const byCallId = new Map(got.map((g) => [getHeader(g.msg, 'call-id'), g.flow.transport]));
    expect(byCallId.get('u1')).toBe('udp');
    expect(byCallId.get('t1')).toBe('tcp');
  });

  it('sends a datagram to an IP literal at once, and to a name through DNS', async () => {
    const { t } = await startTransport();
    const peer = dgram.createSocket('udp4');
    open.push({ close: () => new Promise<void>((r) => peer.close(() => r())) });
    const received: string[] = [];
    peer.on('message', (d) => received.push(getHeader(parseOptions(d), 'call-id') ?? ''));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const port = peer.address().port;
    await t.send(options('literal'), { transport: 'udp', address: '127.0.0.1', port });
    await t.send(options('name'), { transport: 'udp', address: 'localhost', port });
    await until(() => received.length === 2, 'both datagrams');
    expect(received.sort()).toEqual(['literal', 'name']);
  });

  it('reports a malformed datagram with the partial request and keeps running', async () => {
    const { t, got, bad } = await startTransport();
    const udp = dgram.createSocket('udp4');
    open.push({ close: () => new Promise<void>((r) => udp.close(() => r())) });
    udp.send(Buffer.from(options('x').toString().replace('CSeq: 1 OPTIONS', 'CSeq: 1 BYE')), t.address.port, '127.0.0.1');
    udp.send(Buffer.from('\r\n\r\n'), t.address.port, '127.0.0.1'); // keep-alive: ignored
    udp.send(options('ok'), t.address.port, '127.0.0.1');
    await until(() => got.length === 1 && bad.length === 1, 'one good, one bad');
    expect(bad[0]?.reason).toBe('CSeq method does not match request method');
    expect(bad[0]?.partial?.method).toBe('OPTIONS');
  });

  it('frames TCP messages split across chunks and coalesced in one, and answers a CRLF ping with a pong', async () => {
    const { t, got } = await startTransport();
    const { sock, data } = await tcpClient(t.address.port);
    const a = options('s1', 'hello');
    sock.write(a.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(a.subarray(10, a.length - 2));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(Buffer.concat([a.subarray(a.length - 2), Buffer.from('\r\n\r\n'), options('s2'), options('s3')]));
    await until(() => got.length === 3, 'three messages');
    expect(got.map((g) => getHeader(g.msg, 'call-id'))).toEqual(['s1', 's2', 's3']);
    expect(got[0]?.msg.body.toString()).toBe('hello');
    await until(() => data() === '\r\n', 'pong');
  });

  it('closes only the connection that sent an oversized message', async () => {
    const { t, got, bad } = await startTransport();
    const victim = await tcpClient(t.address.port);
    const other = await tcpClient(t.address.port);
    const closed = new Promise<void>((r) => victim.sock.once('close', () => r()));
    victim.sock.write(options('big', 'x'.repeat(MAX)));
    await closed;
    expect(bad.map((b) => b.reason)).toEqual(['message too large']);
    other.sock.write(options('still-here'));
    await until(() => got.length === 1, 'message on the other connection');
  });

  it('sends responses back over the connection a request came on', async () => {
    const { t, got } = await startTransport();
    const { sock, data } = await tcpClient(t.address.port);
    sock.write(options('reuse'));
    await until(() => got.length === 1, 'request');
    const flow = got[0]!.flow;
    await t.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), { transport: 'tcp', address: flow.remoteAddress, port: flow.remotePort });
    await until(() => data().startsWith('SIP/2.0 200 OK'), 'response on the same socket');
  });

  it('opens a TCP connection for a new target and reuses it', async () => {
    const server = net.createServer();
    const accepted: net.Socket[] = [];
    let received = '';
    server.on('connection', (s) => {
      accepted.push(s);
      s.on('data', (d) => (received += d.toString()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise<void>((r) => { for (const s of accepted) s.destroy(); server.close(() => r()); }) });
    const { t } = await startTransport();
    const port = (server.address() as net.AddressInfo).port;
    await Promise.all([t.send(options('c1'), { transport: 'tcp', address: '127.0.0.1', port }), t.send(options('c2'), { transport: 'tcp', address: '127.0.0.1', port })]);
    await t.send(options('c3'), { transport: 'tcp', address: '127.0.0.1', port });
    await until(() => (received.match(/^Call-ID: c\d/gm) ?? []).length === 3, 'three requests');
    expect(accepted).toHaveLength(1);
  });

  it('rejects a send to a port nobody listens on, without crashing', async () => {
    const { t } = await startTransport();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(t.send(options('x'), { transport: 'tcp', address: '127.0.0.1', port })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('closes idle TCP connections', async () => {
    const { t } = await startTransport({ tcpIdleTimeoutMs: 100 });
    const { sock } = await tcpClient(t.address.port);
    await new Promise<void>((r) => sock.once('close', () => r()));
  });

  it('close() ends every socket and resolves', async () => {
    const { t } = await startTransport();
    const { sock } = await tcpClient(t.address.port);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await t.close();
    await closed;
    await expect(t.send(options('late'), { transport: 'udp', address: '127.0.0.1', port: 9 })).rejects.toThrow('transport closed');
  });
});
