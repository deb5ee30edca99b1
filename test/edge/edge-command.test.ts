/** `outdial edge` as a process: refuses to start without a secret; with one, serves srf apps; trusts whom it is told. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { connectSrf, disconnectSrf, waitFor } from '../support/edge-harness.ts';
import { freePort } from '../support/free-port.ts';
import { buildRequest, RawSipPeer } from './raw-sip-peer.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outdial');
const children: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

it('exits 2 with a clear message when no secret is configured', async () => {
  const p = run(['edge', '--sip-port', '0', '--edge-port', '0'], { OUTDIAL_EDGE_SECRET: '' });
  expect(await p.exited).toBe(2);
  expect(p.output()).toMatch(/OUTDIAL_EDGE_SECRET/);
}, 20_000);

it('runs with a secret, logs its addresses and accepts a drachtio-srf app', async () => {
  const sipPort = await freePort();
  const wirePort = await freePort();
  const p = run(['edge', '--sip-host', '127.0.0.1', '--sip-port', String(sipPort), '--edge-port', String(wirePort)], { OUTDIAL_EDGE_SECRET: 's3cret' });
  await waitFor(() => /edge ready/.test(p.output()), 15_000, 'edge ready log');
  expect(p.output()).toContain(`127.0.0.1:${sipPort}`);
  const srf = new Srf();
  try {
    expect(await connectSrf(srf, { host: '127.0.0.1', port: wirePort }, 's3cret')).toContain(`udp/127.0.0.1:${sipPort}`);
  } finally {
    disconnectSrf(srf);
  }
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
}, 30_000);

it('trusts every source by default, and only OUTDIAL_EDGE_TRUSTED_SOURCES when given (docs/edge.md §8)', async () => {
  for (const trusted of ['', '127.0.0.2/32']) {
    const sipPort = await freePort();
    const wirePort = await freePort();
    const p = run(['edge', '--sip-host', '127.0.0.1', '--sip-port', String(sipPort), '--edge-port', String(wirePort)], { OUTDIAL_EDGE_SECRET: 's3cret', OUTDIAL_EDGE_TRUSTED_SOURCES: trusted });
    await waitFor(() => /edge ready/.test(p.output()), 15_000, 'edge ready log');
    const peer = await RawSipPeer.open('udp', { host: '127.0.0.1', port: sipPort });
    try {
      const r = buildRequest({ method: 'INVITE', peer }, { host: '127.0.0.1', port: sipPort });
      peer.send(r.text);
      // no app: a trusted INVITE gets 100 and then 503; an untrusted one a single 403
      const res = await peer.finalResponse(r.callId);
      expect(res.status).toBe(trusted === '' ? 503 : 403);
    } finally {
      peer.close();
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }
}, 40_000);
