/**
 * Starts the embedded edge on 127.0.0.1 port 0 with short timers, connects real drachtio-srf
 * applications to it, and tears everything down again (afterEach: `await harness.close()`).
 */
import Srf from 'drachtio-srf';
import { startEdge, type EdgeOptions, type RunningEdge } from '../../src/edge/edge.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';

export const TEST_SECRET = 'cymru-test-secret';
/** Short RFC 3261 timers: Timer B/F/H = 64*T1 = 3.2 s. */
export const TEST_TIMERS = { t1Ms: 50, t2Ms: 400, t4Ms: 500 };

export const SDP = [
  'v=0',
  'o=outdial 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=sendrecv',
  '',
].join('\r\n');

export interface EdgeHarness {
  edge: RunningEdge;
  logs: ReturnType<typeof createCapturingLogger>;
  /** a connected, authenticated srf application */
  connectApp(): Promise<Srf>;
  close(): Promise<void>;
}

/** sip: more edge SIP options (TLS files, DNS servers); extra: the untrusted-source gate */
export async function startEdgeHarness(
  overrides: Partial<typeof TEST_TIMERS> = {},
  sip: Partial<EdgeOptions['sip']> = {},
  extra: Pick<EdgeOptions, 'untrusted'> = {},
): Promise<EdgeHarness> {
  const logs = createCapturingLogger(process.env.OUTDIAL_TEST_LOG ?? 'debug');
  const edge = await startEdge({
    sip: { host: '127.0.0.1', port: 0, maxMessageBytes: 65535, ...TEST_TIMERS, ...overrides, ...sip },
    wire: { host: '127.0.0.1', port: 0, secret: TEST_SECRET },
    logger: logs.logger,
    ...extra,
  });
  const apps: Srf[] = [];
  return {
    edge,
    logs,
    async connectApp() {
      const srf = new Srf();
      apps.push(srf);
      await connectSrf(srf, edge.wireAddress, TEST_SECRET);
      return srf;
    },
    async close() {
      for (const srf of apps) disconnectSrf(srf);
      await edge.close();
    },
  };
}

export function connectSrf(srf: Srf, address: { host: string; port: number }, secret: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf did not connect')), 5000);
    srf.once('connect', (err: Error | null, hostport: string) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(hostport);
    });
    // Without a listener a socket error would be thrown by the EventEmitter.
    srf.on('error', () => undefined);
    void srf.connect({ host: address.host, port: address.port, secret });
  });
}

export function disconnectSrf(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    // already gone
  }
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
