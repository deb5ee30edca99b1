/**
 * `outdial start` gives its embedded edge the platforms of OUTDIAL_TRUSTED_SOURCES
 * (docs/edge.md §8): an INVITE from anywhere else gets one stateless 403, no 100 Trying.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { startEngine, type Engine } from '../../src/engine.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { SDP } from '../support/edge-harness.ts';
import { buildRequest, RawSipPeer } from './raw-sip-peer.ts';

let engine: Engine | undefined;
let peer: RawSipPeer | undefined;
let dir: string | undefined;
afterEach(async () => {
  peer?.close();
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  engine = undefined;
  peer = undefined;
  dir = undefined;
});

it.each(['reject', 'drop'] as const)('OUTDIAL_UNTRUSTED_ACTION=%s applies to INVITEs from outside OUTDIAL_TRUSTED_SOURCES', async (action) => {
  dir = mkdtempSync(path.join(tmpdir(), 'outdial-untrusted-'));
  const config = loadConfig(
    { OUTDIAL_TRUSTED_SOURCES: '127.0.0.2/32', OUTDIAL_UNTRUSTED_ACTION: action },
    {
      http: { host: '127.0.0.1', port: 0 },
      db: { path: path.join(dir, 'outdial.db') },
      admin: { username: 'admin', password: 'a-long-test-password' },
      sip: { host: '127.0.0.1', port: 0, t1Ms: 20 },
      edge: { host: '127.0.0.1', port: 0 },
      routing: { healthCheckIntervalMs: 0 },
    },
  );
  expect(config.sip.untrustedAction).toBe(action);
  engine = await startEngine(config, createCapturingLogger('warn').logger, { print: () => undefined, carriers: new Map() });
  const sip = engine.sip!;
  peer = await RawSipPeer.open('udp', sip);
  const r = buildRequest({ method: 'INVITE', peer, body: SDP, uri: `sip:+15551234567@127.0.0.1:${sip.port}` }, sip);
  peer.send(r.text);
  await new Promise((res) => setTimeout(res, 800));
  const statuses = peer.received.map((m) => (m.kind === 'response' ? m.status : 0));
  expect(statuses).toEqual(action === 'reject' ? [403] : []);
  expect(engine.edgeStats()?.serverTransactions).toBe(0);
});

it('rejects a bad OUTDIAL_UNTRUSTED_ACTION at start-up', () => {
  expect(() => loadConfig({ OUTDIAL_UNTRUSTED_ACTION: 'ignore' })).toThrow(/untrustedAction/);
});
