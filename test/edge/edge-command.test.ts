/** `outdial edge` as a process: refuses to start without a secret; with one, serves srf apps; trusts whom it is told. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { connectSrf, disconnectSrf, waitFor } from '../support/edge-harness.ts';
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

/**
 * `outdial edge` on ports the system picks (no race with other tests for a port chosen ahead),
 * once its ready line names them; fails at once, with its output, if it exits first.
 */
async function startEdge(env: Record<string, string>) {
  const p = run(['edge', '--sip-host', '127.0.0.1', '--sip-port', '0', '--edge-port', '0'], env);
  let exitCode: number | null | undefined;
  void p.exited.then((code) => (exitCode = code));
  const ready = /"sip":"127\.0\.0\.1:(\d+)","wire":"127\.0\.0\.1:(\d+)"[^\n]*outdial edge ready/;
  await waitFor(() => {
    if (exitCode !== undefined) throw new Error(`outdial edge exited ${exitCode} before it was ready:\n${p.output()}`);
    return ready.test(p.output());
  }, 15_000, 'edge ready log');
  const m = ready.exec(p.output())!;
  return { ...p, sipPort: Number(m[1]), wirePort: Number(m[2]) };
}

it('exits 2 with a clear message when no secret is configured', async () => {
  const p = run(['edge', '--sip-port', '0', '--edge-port', '0'], { OUTDIAL_EDGE_SECRET: '' });
  expect(await p.exited).toBe(2);
  expect(p.output()).toMatch(/OUTDIAL_EDGE_SECRET/);
}, 20_000);

it('runs with a secret, logs its addresses and accepts a drachtio-srf app', async () => {
  const p = await startEdge({ OUTDIAL_EDGE_SECRET: 's3cret' });
  const { sipPort, wirePort } = p;
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
    const p = await startEdge({ OUTDIAL_EDGE_SECRET: 's3cret', OUTDIAL_EDGE_TRUSTED_SOURCES: trusted });
    const { sipPort } = p;
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
