/**
 * sipp's built-in scenarios and common options against the edge with small drachtio-srf apps,
 * over UDP and TCP: many concurrent calls, auto-answer (-aa) of in-dialog requests the app sends,
 * sipp's uas as the callee of srf.createUAC, and a caller that re-INVITEs and sends INFO inside
 * the dialog. Also the ends of a real call: the transaction layer and dialog store drain to zero.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { startEdge, type RunningEdge } from '../../src/edge/edge.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { connectSrf, disconnectSrf, startEdgeHarness, SDP, TEST_SECRET, TEST_TIMERS, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
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

function answerAll(srf: Srf): { dialogs: number; destroyed: number } {
  const count = { dialogs: 0, destroyed: 0 };
  srf.invite((req, res) => {
    srf
      .createUAS(req, res, { localSdp: SDP })
      .then((d) => {
        count.dialogs++;
        d.on('destroy', () => count.destroyed++);
      })
      .catch(() => undefined);
  });
  return count;
}

describe.each(['udp', 'tcp'] as const)('sipp built-in scenarios over %s', (transport) => {
  it('-sn uac -r 50 -m 200: every call completes and the app sees each one end', async () => {
    h = await startEdgeHarness();
    const count = answerAll(await h.connectApp());
    const uac = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, calls: 200, rate: 50, timeoutSec: 30 });
    const r = await uac.done;
    expectSuccess(r, h);
    await waitFor(() => count.destroyed === 200, 3000, 'all dialogs destroyed');
    expect(count.dialogs).toBe(200);
    expect(h.edge.stats().dialogs).toBe(0);
  }, 40_000);

  it('-sn uac -aa -d 1000: an INFO the app sends inside the dialog is auto-answered 200', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const infoStatus: number[] = [];
    srf.invite((req, res) => {
      srf
        .createUAS(req, res, { localSdp: SDP })
        .then((d) => {
          d.on('ack', () => {
            // srf's type declarations want a whole SrfRequest here; at runtime it takes these options
            const request = d.request.bind(d) as unknown as (o: object) => Promise<{ status: number }>;
            request({ method: 'INFO', headers: { 'Content-Type': 'application/dtmf-relay' }, body: 'Signal=5\r\nDuration=160\r\n' })
              .then((res: { status: number }) => infoStatus.push(res.status))
              .catch(() => infoStatus.push(-1));
          });
        })
        .catch(() => undefined);
    });
    const uac = await startSipp({ scenario: { builtin: 'uac' }, transport, remote: h.edge.sipAddress, timeoutSec: 15, extraArgs: ['-aa', '-d', '1000'] });
    const r = await uac.done;
    expectSuccess(r, h);
    expect(infoStatus).toEqual([200]);
    expect(r.messages).toMatch(/^INFO sip:/m);
  });

  it('-sn uas as the callee of srf.createUAC: call set up, then the app hangs up', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const uas = await startSipp({ scenario: { builtin: 'uas' }, transport, timeoutSec: 15 });
    const uri = `sip:service@127.0.0.1:${uas.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    const dialog = await srf.createUAC(uri, { localSdp: SDP });
    expect(dialog.remote.sdp).toContain('m=audio');
    await new Promise((r) => setTimeout(r, 50));
    dialog.destroy();
    expectSuccess(await uas.done, h, 'uas');
  });

  it('a re-INVITE and an INFO from sipp reach the app as modify and info, and the call ends cleanly', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    const events: string[] = [];
    srf.invite((req, res) => {
      srf
        .createUAS(req, res, { localSdp: SDP })
        .then((d) => {
          d.on('modify', (mreq: { body: string }, mres: { send: (s: number, o: object) => void }) => {
            events.push(mreq.body.includes('a=sendonly') ? 'modify(hold)' : 'modify');
            mres.send(200, { body: SDP.replace('a=sendrecv', 'a=recvonly') });
          });
          d.on('info', (_ireq: unknown, ires: { send: (s: number) => void }) => {
            events.push('info');
            ires.send(200);
          });
          d.on('destroy', () => events.push('destroy'));
        })
        .catch(() => events.push('failed'));
    });
    const uac = await startSipp({ scenario: 'uac-reinvite-info.xml', transport, remote: h.edge.sipAddress, timeoutSec: 15 });
    const r = await uac.done;
    expectSuccess(r, h);
    await waitFor(() => events.includes('destroy'), 2000, 'dialog destroy');
    expect(events).toEqual(['modify(hold)', 'info', 'destroy']);
    // the re-INVITE's 200 carried the app's answer
    expect(r.messages).toMatch(/a=recvonly/);
  });
});

describe('IPv6 loopback', () => {
  // drachtio-server listens on IPv6 too (contact sip:[::1]:5060); sipp's built-in uac calls [::1].
  let edge: RunningEdge | undefined;
  let app: Srf | undefined;
  const children = new Set<ChildProcess>();
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    children.clear();
    if (app) disconnectSrf(app);
    app = undefined;
    await edge?.close();
    edge = undefined;
  });

  it.each(['udp', 'tcp'] as const)('a sipp caller on [::1] completes a call over %s', async (transport) => {
    const logs = createCapturingLogger('debug');
    edge = await startEdge({
      sip: { host: '::1', port: 0, maxMessageBytes: 65535, ...TEST_TIMERS },
      wire: { host: '127.0.0.1', port: 0, secret: TEST_SECRET },
      logger: logs.logger,
    });
    expect(edge.sipAddress.host).toBe('::1');
    app = new Srf();
    await connectSrf(app, edge.wireAddress, TEST_SECRET);
    const count = answerAll(app);
    const port = await freeV6Port();
    const dir = mkdtempSync(path.join(tmpdir(), 'outdial-sipp6-'));
    const args = ['-sn', 'uac', '-i', '::1', '-p', String(port), '-t', transport === 'udp' ? 'u1' : 't1', '-m', '1'];
    args.push('-timeout', '10s', '-timeout_error', '-nostdin', `[::1]:${edge.sipAddress.port}`);
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    children.delete(child);
    rmSync(dir, { recursive: true, force: true });
    expect(code, `${out.slice(-2000)}\n${logs.text().slice(-3000)}`).toBe(0);
    await waitFor(() => count.destroyed === 1, 2000, 'dialog destroyed');
  });
});

async function freeV6Port(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '::1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
