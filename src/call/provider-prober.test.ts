import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { createCapturingLogger } from '../log/logger.ts';
import { LIVE_SENTINEL, type HealthStatus, type ProviderRecord, CARRIER_DEFAULTS } from '../routing/model.ts';
import {
  createSipOptionsProbe,
  nextHealth,
  probeSucceeded,
  probeUri,
  ProviderProber,
  type OptionsSender,
  type ProbeOutcome,
  type ProviderProberOptions,
} from './provider-prober.ts';

describe('nextHealth (the health state machine)', () => {
  it.each([
    // from, failures, probe ok, threshold → to, failures
    ['unknown', 0, true, 2, 'healthy', 0],
    ['unknown', 0, false, 2, 'unknown', 1],
    ['unknown', 1, false, 2, 'unhealthy', 2],
    ['healthy', 0, false, 2, 'healthy', 1],
    ['healthy', 1, false, 2, 'unhealthy', 2],
    ['healthy', 1, true, 2, 'healthy', 0],
    ['unhealthy', 5, false, 2, 'unhealthy', 6],
    ['unhealthy', 5, true, 2, 'healthy', 0],
    ['healthy', 0, false, 1, 'unhealthy', 1],
    ['healthy', 1, false, 3, 'healthy', 2],
  ] as const)('%s with %i failures, probe ok=%s, unhealthyAfter %i → %s (%i)', (from, failures, ok, after, to, toFailures) => {
    expect(nextHealth({ status: from, failures }, ok, after)).toEqual({ status: to, failures: toFailures });
  });
});

describe('probeSucceeded', () => {
  it.each([200, 202, 404, 405, 420, 480, 486, 489, 500, 502, 603])('an answer %i means the host is alive', (status) => {
    expect(probeSucceeded({ kind: 'answered', status })).toBe(true);
  });
  it.each([408, 503])('%i (no answer / cannot send / service unavailable) is a failure', (status) => {
    expect(probeSucceeded({ kind: 'answered', status })).toBe(false);
  });
  it.each<ProbeOutcome>([{ kind: 'timeout' }, { kind: 'not-sent', reason: 'no such host' }])('$kind is a failure', (o) => {
    expect(probeSucceeded(o)).toBe(false);
  });
});

describe('probeUri', () => {
  it.each([
    ['carrier.example.com', 'sip:carrier.example.com'],
    ['carrier.example.com:5080', 'sip:carrier.example.com:5080'],
    ['192.0.2.7:5062', 'sip:192.0.2.7:5062'],
    ['[2001:db8::1]:5080', 'sip:[2001:db8::1]:5080'],
    ['2001:db8::1', 'sip:[2001:db8::1]'],
  ])('%s → %s', (hostname, uri) => {
    expect(probeUri(hostname)).toBe(uri);
  });
});

// ------------------------------------------------------------------ the prober, with fakes

function provider(id: string, hostname: string, health: HealthStatus = 'unknown'): ProviderRecord {
  return {
    id,
    type: 'sip',
    hostname,
    tech_prefix: '',
    tech_postfix: '',
    tech_headers: { 'X-Secret-Auth': 'do-not-log' },
    name: id,
    detail: '',
    codecs: '',
    metadata: {},
    health_status: health,
    health_checked_at: null,
    registration_status: 'off',
    registration_checked_at: null,
    ...CARRIER_DEFAULTS,
    tm_create: '2026-01-01T00:00:00.000000Z',
    tm_update: '2026-01-01T00:00:00.000000Z',
    tm_delete: LIVE_SENTINEL,
  };
}

interface Call {
  uri: string;
  signal: AbortSignal;
  resolve(o: ProbeOutcome): void;
}

/** A prober over a mutable provider map, a manual clock and a probe the test answers by hand. */
function setup(over: Partial<ProviderProberOptions> = {}, providers: ProviderRecord[] = [provider('a', 'a.example.com')]) {
  const clock = new ManualClock();
  const map = new Map(providers.map((p) => [p.id, p]));
  const calls: Call[] = [];
  const writes: Array<{ id: string; status: HealthStatus; checkedAt: string }> = [];
  const logs = createCapturingLogger('trace');
  let ready = true;
  let tick = 0;
  const prober = new ProviderProber({
    intervalMs: 100,
    timeoutMs: 50,
    unhealthyAfter: 2,
    providers: () => map,
    probe: (uri, signal) => new Promise<ProbeOutcome>((resolve) => calls.push({ uri, signal, resolve })),
    // like the store: the write is announced and the snapshot follows it
    setHealth: (id, status, checkedAt) => {
      writes.push({ id, status, checkedAt });
      const p = map.get(id);
      if (p) map.set(id, { ...p, health_status: status, health_checked_at: checkedAt });
    },
    ready: () => ready,
    now: () => `t${++tick}`,
    timers: clock,
    logger: logs.logger,
    ...over,
  });
  return {
    clock,
    map,
    calls,
    writes,
    logs,
    prober,
    setReady: (r: boolean) => (ready = r),
    /** answers every probe still open with `o` and lets the results be recorded */
    async answerAll(o: ProbeOutcome) {
      for (const c of calls.splice(0)) c.resolve(o);
      await prober.idle();
    },
    /** one round: the interval passes, the probes go out, each gets `o` */
    async round(o: ProbeOutcome) {
      clock.advance(100);
      for (const c of calls.splice(0)) c.resolve(o);
      await prober.idle();
    },
  };
}

const OK: ProbeOutcome = { kind: 'answered', status: 200 };
const REFUSED: ProbeOutcome = { kind: 'answered', status: 405 };
const GONE: ProbeOutcome = { kind: 'answered', status: 408 };

describe('ProviderProber', () => {
  it('probes every live provider each interval with OPTIONS to sip:<hostname>, the first round one interval after start', async () => {
    const s = setup({}, [provider('a', 'a.example.com'), provider('b', '[2001:db8::5]:5080')]);
    s.prober.start();
    s.clock.advance(99);
    expect(s.calls).toHaveLength(0);
    s.clock.advance(1);
    expect(s.calls.map((c) => c.uri)).toEqual(['sip:a.example.com', 'sip:[2001:db8::5]:5080']);
    await s.answerAll(OK);
    s.clock.advance(100);
    expect(s.calls).toHaveLength(2);
    await s.prober.close();
  });

  it('marks unhealthy after N consecutive failures, healthy after one success, and writes only the changes', async () => {
    const s = setup({ unhealthyAfter: 2, refreshEvery: 1000 });
    s.prober.start();
    await s.round(OK); // unknown → healthy
    await s.round(OK);
    await s.round(GONE); // 1 failure: still healthy
    expect(s.writes).toEqual([{ id: 'a', status: 'healthy', checkedAt: 't1' }]);
    await s.round(OK); // the count starts over
    await s.round(GONE);
    await s.round({ kind: 'timeout' }); // 2 in a row
    await s.round(GONE);
    await s.round({ kind: 'not-sent', reason: 'host not found' });
    await s.round(REFUSED); // 405: the host answers SIP
    expect(s.writes.map((w) => w.status)).toEqual(['healthy', 'unhealthy', 'healthy']);
    expect(s.map.get('a')!.health_status).toBe('healthy');
    await s.prober.close();
  });

  it('logs each transition at info with the provider id and hostname, never its tech headers', async () => {
    const s = setup();
    s.prober.start();
    await s.round(GONE);
    await s.round(GONE);
    const changed = s.logs.lines.filter((l) => l.msg === 'provider health changed');
    expect(changed).toEqual([
      expect.objectContaining({ level: 30, provider_id: 'a', hostname: 'a.example.com', from: 'unknown', to: 'unhealthy', outcome: '408' }),
    ]);
    expect(s.logs.text()).not.toContain('do-not-log');
    await s.prober.close();
  });

  it('refreshes health_checked_at of an unchanged status only every refreshEvery probes', async () => {
    const s = setup({ refreshEvery: 3 });
    s.prober.start();
    for (let i = 0; i < 7; i++) await s.round(OK);
    // write 1: the change; then one refresh per 3 further probes
    expect(s.writes.map((w) => w.checkedAt)).toEqual(['t1', 't2', 't3']);
    await s.prober.close();
  });

  it('has at most one probe per provider in flight: a slow probe makes later rounds skip it', async () => {
    const s = setup({ timeoutMs: 350 }, [provider('a', 'a.example.com'), provider('b', 'b.example.com')]);
    s.prober.start();
    s.clock.advance(100);
    expect(s.calls.map((c) => c.uri)).toEqual(['sip:a.example.com', 'sip:b.example.com']);
    s.calls.find((c) => c.uri === 'sip:b.example.com')!.resolve(OK);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    s.clock.advance(100); // a is still out; b is probed again
    s.clock.advance(100);
    expect(s.calls.filter((c) => c.uri === 'sip:a.example.com')).toHaveLength(1);
    expect(s.calls.filter((c) => c.uri === 'sip:b.example.com').length).toBeGreaterThanOrEqual(2);
    await s.prober.close();
  });

  it('counts no answer within the timeout as a failure and aborts the probe', async () => {
    const s = setup({ timeoutMs: 50, unhealthyAfter: 2 });
    s.prober.start();
    s.clock.advance(100);
    const first = s.calls[0]!;
    s.clock.advance(50);
    expect(first.signal.aborted).toBe(true);
    await s.prober.idle();
    s.clock.advance(50); // round 2 goes out
    s.clock.advance(50); // and times out
    await s.prober.idle();
    expect(s.writes).toEqual([{ id: 'a', status: 'unhealthy', checkedAt: 't1' }]);
    first.resolve(OK); // a late answer changes nothing
    await new Promise((r) => setImmediate(r));
    expect(s.writes).toHaveLength(1);
    await s.prober.close();
  });

  it('runs at most maxConcurrent probes at once across providers', async () => {
    const many = Array.from({ length: 45 }, (_, i) => provider(`p${i}`, `h${i}.example.com`));
    const s = setup({ maxConcurrent: 20, timeoutMs: 10_000 }, many);
    s.prober.start();
    s.clock.advance(100);
    expect(s.calls).toHaveLength(20);
    expect(s.prober.pending()).toBe(45);
    const out = s.calls.splice(0);
    for (const c of out.slice(0, 5)) c.resolve(OK);
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toHaveLength(5); // five slots freed, five more sent
    for (const c of [...out.slice(5), ...s.calls.splice(0)]) c.resolve(OK);
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toHaveLength(20); // the last 20
    for (const c of s.calls.splice(0)) c.resolve(OK);
    await s.prober.idle();
    expect(new Set(s.writes.map((w) => w.id)).size).toBe(45);
    await s.prober.close();
  });

  it('drops a result for a provider deleted, or whose hostname changed, while the probe was out', async () => {
    const s = setup({ unhealthyAfter: 1 }, [provider('a', 'a.example.com'), provider('b', 'b.example.com')]);
    s.prober.start();
    s.clock.advance(100);
    s.map.delete('a');
    s.map.set('b', { ...s.map.get('b')!, hostname: 'b2.example.com' }); // the store resets health to unknown
    await s.answerAll(GONE);
    expect(s.writes).toEqual([]);
    await s.round(GONE);
    expect(s.calls).toHaveLength(0);
    expect(s.writes).toEqual([{ id: 'b', status: 'unhealthy', checkedAt: 't1' }]);
    await s.prober.close();
  });

  it('starts counting afresh when the hostname changes', async () => {
    const s = setup({ unhealthyAfter: 2 });
    s.prober.start();
    await s.round(GONE); // a.example.com: 1 failure
    s.map.set('a', { ...s.map.get('a')!, hostname: 'a2.example.com' });
    await s.round(GONE); // a2.example.com: 1 failure, not 2
    expect(s.writes).toEqual([]);
    await s.round(GONE);
    expect(s.writes.map((w) => w.status)).toEqual(['unhealthy']);
    await s.prober.close();
  });

  it('starts from the stored status: a provider stored unhealthy stays so until a probe succeeds', async () => {
    const s = setup({}, [provider('a', 'a.example.com', 'unhealthy')]);
    s.prober.start();
    await s.round(GONE);
    expect(s.writes).toEqual([]);
    await s.round(OK);
    expect(s.writes.map((w) => w.status)).toEqual(['healthy']);
    await s.prober.close();
  });

  it('skips rounds while the SIP server is not connected and drops results that arrive then', async () => {
    const s = setup({ unhealthyAfter: 1 });
    s.prober.start();
    s.setReady(false);
    s.clock.advance(100);
    expect(s.calls).toHaveLength(0);
    s.setReady(true);
    s.clock.advance(100);
    expect(s.calls).toHaveLength(1);
    s.setReady(false); // the connection drops while the probe is out: its timeout says nothing
    s.clock.advance(50);
    await s.prober.idle();
    expect(s.writes).toEqual([]);
    await s.prober.close();
  });

  it('counts a probe that throws or rejects as a failure, without crashing', async () => {
    let n = 0;
    const s = setup({
      unhealthyAfter: 2,
      probe: () => {
        if (++n === 1) throw new Error('boom');
        return Promise.reject(new Error('also boom'));
      },
    });
    s.prober.start();
    s.clock.advance(100);
    await s.prober.idle();
    s.clock.advance(100);
    await s.prober.idle();
    expect(s.writes.map((w) => w.status)).toEqual(['unhealthy']);
    expect(s.logs.lines.find((l) => l.msg === 'provider health changed')).toMatchObject({ outcome: 'not sent: also boom' });
    await s.prober.close();
  });

  it('keeps probing when recording a result fails', async () => {
    const s = setup({
      setHealth: () => {
        throw new Error('database is closed');
      },
    });
    s.prober.start();
    await s.round(OK);
    expect(s.logs.lines.some((l) => l.msg === 'provider health not recorded')).toBe(true);
    s.clock.advance(100);
    expect(s.calls).toHaveLength(1);
    await s.prober.close();
  });

  it('close() stops the rounds, aborts the probes in flight and writes nothing afterwards', async () => {
    const s = setup({ timeoutMs: 10_000 });
    s.prober.start();
    s.clock.advance(100);
    const out = s.calls[0]!;
    await s.prober.close();
    expect(out.signal.aborted).toBe(true);
    expect(s.prober.pending()).toBe(0);
    expect(s.clock.armed).toBe(0); // neither the round timer nor the probe timeout is left
    out.resolve(OK);
    s.clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toHaveLength(1);
    expect(s.writes).toEqual([]);
    s.prober.start(); // no restart after close
    s.clock.advance(1000);
    expect(s.calls).toHaveLength(1);
  });
});

// ------------------------------------------------------------------ the SIP probe over a fake srf

class FakeRequest extends EventEmitter {}

function fakeSrf(behaviour: (cb: (err: unknown, req: FakeRequest) => void, req: FakeRequest) => void) {
  const sent: Array<{ uri: string; method: string; headers: Record<string, string> }> = [];
  const srf: OptionsSender = {
    request(uri, opts, callback) {
      sent.push({ uri, ...opts });
      const req = new FakeRequest();
      behaviour(callback as (err: unknown, req: FakeRequest) => void, req);
      return undefined;
    },
  };
  return { srf, sent };
}

describe('createSipOptionsProbe', () => {
  it('sends an out-of-dialog OPTIONS and resolves with the final status, past provisional ones', async () => {
    let request: FakeRequest | undefined;
    const { srf, sent } = fakeSrf((cb, req) => {
      request = req;
      cb(null, req);
    });
    const p = createSipOptionsProbe(srf)('sip:carrier.example.com:5080', new AbortController().signal);
    request!.emit('response', { status: 100 });
    request!.emit('response', { status: 404 });
    await expect(p).resolves.toEqual({ kind: 'answered', status: 404 });
    expect(sent).toEqual([{ uri: 'sip:carrier.example.com:5080', method: 'OPTIONS', headers: { Accept: 'application/sdp' } }]);
  });

  it.each([
    ['a callback error', (cb: (err: unknown, req: FakeRequest) => void) => cb(new Error('unable to resolve host'), undefined as never)],
    ['a thrown error', () => {
      throw new Error('no connection');
    }],
  ])('reports %s as not sent', async (_name, behaviour) => {
    const { srf } = fakeSrf(behaviour);
    const o = await createSipOptionsProbe(srf)('sip:x.example.com', new AbortController().signal);
    expect(o.kind).toBe('not-sent');
  });

  it('resolves as a timeout on abort and ignores the answer that comes later', async () => {
    let request: FakeRequest | undefined;
    const { srf } = fakeSrf((cb, req) => {
      request = req;
      cb(null, req);
    });
    const ac = new AbortController();
    const p = createSipOptionsProbe(srf)('sip:x.example.com', ac.signal);
    ac.abort();
    request!.emit('response', { status: 408 });
    await expect(p).resolves.toEqual({ kind: 'timeout' });
  });
});
