import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallRecordPruner } from '../../src/call/call-record-pruner.ts';
import { sqliteDb } from '../admin/support/sqlite-db.ts';
import { CUSTOMER, DEFAULT_CUSTOMER, describeRun, finalStatus, startRoutingHarness, type RoutingHarness } from '../routing/support/routing-harness.ts';
import type { SippResult } from '../support/sipp.ts';

/**
 * Call records (docs/api.md "Call records") from real calls: sipp is the platform and every
 * carrier, the engine runs whole, and GET /v1.0/calls must return exactly the calls placed, with
 * their attempts, as the log line describes them.
 */

const DAY_MS = 24 * 3600 * 1000;

/** The Call-ID the platform put on its INVITE. */
function callIdOf(platform: SippResult): string {
  const m = /^INVITE [^\r\n]*[\r\n]+(?:[^\r\n]+[\r\n]+)*?Call-ID:\s*(\S+)/im.exec(platform.messages);
  if (!m) throw new Error(`no Call-ID in the platform's trace:\n${platform.messages.slice(0, 2000)}`);
  return m[1]!;
}

async function allCalls(h: RoutingHarness, query = ''): Promise<Array<Record<string, unknown>>> {
  const r = await h.t.request('GET', `/v1.0/calls${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body.result;
}

describe('call records of sipp calls', () => {
  let h: RoutingHarness;
  const placed: Record<'answered' | 'failedOver' | 'allFailed', { callId: string; providers: string[] }> = {} as never;

  beforeAll(async () => {
    h = await startRoutingHarness();
    // answered by the only carrier
    const c1 = await h.carrier('carrier-answer.xml');
    const p1 = await h.provision(c1, { target: '+1555' });
    let platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    placed.answered = { callId: callIdOf(platform), providers: [p1] };
    await h.reset();

    // failed over from a 503 to a carrier that answers, for a customer of its own
    const c2 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c3 = await h.carrier('carrier-answer.xml');
    const p2 = await h.provision(c2, { priority: 1, target: '+44', customer_id: CUSTOMER });
    const p3 = await h.provision(c3, { priority: 2, target: '+44', customer_id: CUSTOMER });
    platform = await h.platform('platform-call.xml', '+442071234567', { customer: CUSTOMER });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    placed.failedOver = { callId: callIdOf(platform), providers: [p2, p3] };
    await h.reset();

    // every carrier fails
    const c4 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c5 = await h.carrier('carrier-reject.xml', { status: '502 Bad Gateway' });
    const p4 = await h.provision(c4, { priority: 1 });
    const p5 = await h.provision(c5, { priority: 2 });
    platform = await h.platform('platform-call-fails.xml', '+15559876543');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(502);
    placed.allFailed = { callId: callIdOf(platform), providers: [p4, p5] };
    await h.reset();
    // stored off the SIP path: within a flush interval
    for (let i = 0; (await allCalls(h)).length < 3; i++) {
      if (i === 100) throw new Error('the three call records were not stored');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('GET /v1.0/calls returns exactly those calls, newest first, with every attempt', async () => {
    const calls = await allCalls(h);
    expect(calls.map((c) => c.call_id)).toEqual([placed.allFailed.callId, placed.failedOver.callId, placed.answered.callId]);
    const [allFailed, failedOver, answered] = calls as [Record<string, any>, Record<string, any>, Record<string, any>]; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test

    expect(answered).toMatchObject({
      customer_id: DEFAULT_CUSTOMER,
      destination: '+15551234567',
      caller: '+15550001111',
      outcome: 'connected',
      status: 200,
      provider_id: placed.answered.providers[0],
      hangup_by: 'platform',
    });
    expect(answered.source).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(answered.attempts).toEqual([
      { route_id: expect.any(String), provider_id: placed.answered.providers[0], request_uri: expect.stringMatching(/^sip:\+15551234567@127\.0\.0\.1:\d+$/), status: 200, reason: '', started_ms: expect.any(Number), duration_ms: expect.any(Number) },
    ]);
    expect(answered.talk_ms).toBeGreaterThan(0);
    expect(answered.duration_ms).toBeGreaterThanOrEqual(answered.talk_ms);

    expect(failedOver).toMatchObject({ customer_id: CUSTOMER, destination: '+442071234567', outcome: 'connected', status: 200, provider_id: placed.failedOver.providers[1] });
    expect(failedOver.attempts.map((a: { provider_id: string; status: number; reason: string }) => [a.provider_id, a.status, a.reason])).toEqual([
      [placed.failedOver.providers[0], 503, 'Service Unavailable'],
      [placed.failedOver.providers[1], 200, ''],
    ]);
    expect(failedOver.attempts[1].started_ms).toBeGreaterThanOrEqual(failedOver.attempts[0].started_ms + failedOver.attempts[0].duration_ms);

    expect(allFailed).toMatchObject({ destination: '+15559876543', outcome: 'failed', status: 502, reason: 'Bad Gateway', provider_id: null, hangup_by: null, talk_ms: null });
    expect(allFailed.attempts.map((a: { status: number }) => a.status)).toEqual([503, 502]);

    // the stored record and the log line are the same call
    const logged = h.t.logs.lines.filter((l) => l.msg === 'call ended' && l.call_id === placed.failedOver.callId);
    expect(logged).toHaveLength(1);
    expect((logged[0]!.attempts as Array<{ status: number; request_uri: string }>).map((a) => [a.status, a.request_uri])).toEqual(
      failedOver.attempts.map((a: { status: number; request_uri: string }) => [a.status, a.request_uri]),
    );

    // one by id
    const one = await h.t.request('GET', `/v1.0/calls/${failedOver.id}`);
    expect(one.body).toEqual(failedOver);
    const missing = await h.t.request('GET', '/v1.0/calls/11111111-1111-4111-8111-111111111111');
    expect([missing.status, missing.body.error.reason]).toEqual([404, 'CALL_NOT_FOUND']);
  });

  it('pages newest first without skipping or repeating, and filters by customer, destination prefix, outcome, status and time', async () => {
    const calls = await allCalls(h);
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 5; i++) {
      const r = await h.t.request('GET', `/v1.0/calls?page_size=1&page_token=${encodeURIComponent(token)}`);
      if (r.body.result.length === 0) break;
      expect(r.body.result).toHaveLength(1);
      seen.push(r.body.result[0].id);
      expect(r.body.next_page_token).toBe(r.body.result[0].tm_create);
      token = r.body.next_page_token;
    }
    expect(seen).toEqual(calls.map((c) => c.id));
    const ids = async (query: string) => (await allCalls(h, query)).map((c) => c.call_id);

    expect(await ids(`?customer_id=${CUSTOMER}`)).toEqual([placed.failedOver.callId]);
    expect(await ids(`?customer_id=${DEFAULT_CUSTOMER}`)).toEqual([placed.allFailed.callId, placed.answered.callId]);
    expect(await ids('?destination=%2B1555')).toEqual([placed.allFailed.callId, placed.answered.callId]);
    expect(await ids('?destination=+44')).toEqual([placed.failedOver.callId]); // an unencoded + arrives as a space
    expect(await ids('?destination=%2B15551234567')).toEqual([placed.answered.callId]);
    expect(await ids('?destination=%2B33')).toEqual([]);
    expect(await ids('?outcome=failed')).toEqual([placed.allFailed.callId]);
    expect(await ids('?outcome=connected&destination=%2B1')).toEqual([placed.answered.callId]);
    expect(await ids('?status=502')).toEqual([placed.allFailed.callId]);
    expect(await ids('?status=200')).toEqual([placed.failedOver.callId, placed.answered.callId]);

    // since is inclusive, until exclusive, both on the time the call started (tm_create)
    const middle = calls[1]!.tm_create as string;
    expect(await ids(`?since=${middle}`)).toEqual([placed.allFailed.callId, placed.failedOver.callId]);
    expect(await ids(`?until=${middle}`)).toEqual([placed.answered.callId]);
    expect(await ids(`?since=${middle}&until=${calls[0]!.tm_create as string}`)).toEqual([placed.failedOver.callId]);
    const day = middle.slice(0, 10);
    expect(await ids(`?since=${day}T00:00:00Z&until=2999-01-01T00:00:00.5Z`)).toHaveLength(3);
    // filters combine with pagination
    const first = await h.t.request('GET', '/v1.0/calls?status=200&page_size=1');
    const second = await h.t.request('GET', `/v1.0/calls?status=200&page_size=1&page_token=${first.body.next_page_token}`);
    expect([first.body.result[0].call_id, second.body.result[0].call_id]).toEqual([placed.failedOver.callId, placed.answered.callId]);
  });

  it('refuses malformed filters with the field named', async () => {
    for (const [query, reason, field] of [
      ['customer_id=nope', 'INVALID_ID', 'querystring.customer_id'],
      ['destination=1555', 'INVALID_ARGUMENT', 'querystring.destination'],
      ['outcome=busy', 'INVALID_ARGUMENT', 'querystring.outcome'],
      ['status=99', 'INVALID_ARGUMENT', 'querystring.status'],
      ['since=yesterday', 'INVALID_ARGUMENT', 'querystring.since'],
      ['until=2026-02-30T00:00:00Z', 'INVALID_ARGUMENT', 'until is not a valid time'],
      ['page_token=x', 'INVALID_ARGUMENT', 'page_token'],
    ] as const) {
      const r = await h.t.request('GET', `/v1.0/calls?${query}`);
      expect([query, r.status, r.body.error.reason]).toEqual([query, 400, reason]);
      expect(r.body.error.message).toContain(field);
    }
  });

  it('needs ProjectSuperAdmin', async () => {
    await h.t.request('POST', '/v1.0/agents', { body: { username: 'customer-agent', password: 'customer agent 1', permission: 0x0010 } });
    const token = await h.t.login('customer-agent', 'customer agent 1');
    const calls = await allCalls(h);
    for (const path of ['/v1.0/calls', `/v1.0/calls/${calls[0]!.id as string}`]) {
      const r = await h.t.request('GET', path, { token });
      expect([path, r.status, r.body.error.reason]).toEqual([path, 403, 'PERMISSION_DENIED']);
    }
    expect((await h.t.request('GET', '/v1.0/calls', { token: null })).status).toBe(401);
  });

  it('prunes records older than the retention, in small batches (injected clock)', async () => {
    const store = h.t.engine.store;
    const calls = await allCalls(h);
    // five old calls, 40, 35, 31, 29 and 1 days before "now"
    const now = Date.parse(calls[0]!.tm_create as string) + 1000;
    const aged = [40, 35, 31, 29, 1].map((days, i) => {
      const start = new Date(now - days * DAY_MS).toISOString().replace(/Z$/, '000Z');
      return {
        call_id: `aged-${days}`, started_at: start, ended_at: start, source: '127.0.0.1:5070', caller: '', customer_id: DEFAULT_CUSTOMER,
        destination: `+1555000000${i}`, outcome: 'failed' as const, status: 404, reason: 'no route', provider_id: null, hangup_by: null,
        talk_ms: null, duration_ms: 0, attempts: [],
      };
    });
    expect(await store.calls.insertBatch(aged)).toBe('written');
    expect(await allCalls(h)).toHaveLength(8);

    let clock = now;
    const pruner = new CallRecordPruner({ calls: store.calls, providerCalls: store.providerCalls, retentionDays: 30, logger: h.t.logs.logger, batchSize: 2, now: () => clock });
    const deleting: number[] = [];
    const counting = { pruneBefore: async (before: string, limit: number) => { const n = await store.calls.pruneBefore(before, limit); deleting.push(n); return n; } };
    const counted = new CallRecordPruner({ calls: counting, providerCalls: store.providerCalls, retentionDays: 30, logger: h.t.logs.logger, batchSize: 2, now: () => clock });
    expect(await counted.prune()).toEqual({ calls: 3, providerCalls: 0 });
    // three rows in transactions of at most two: 2, then 1
    expect(deleting).toEqual([2, 1]);
    expect((await allCalls(h)).map((c) => c.call_id)).toEqual([...calls.map((c) => c.call_id), 'aged-1', 'aged-29']);
    expect(h.t.logs.lines.some((l) => l.msg === 'call records pruned' && l.calls === 3)).toBe(true);

    // a day later the 29-day-old call is past the retention too; the sipp calls are not
    clock = now + 1.5 * DAY_MS;
    expect(await pruner.prune()).toEqual({ calls: 1, providerCalls: 0 });
    expect((await allCalls(h)).map((c) => c.call_id)).toEqual([...calls.map((c) => c.call_id), 'aged-1']);
    // and 31 days on, everything
    clock = now + 31 * DAY_MS;
    expect((await pruner.prune()).calls).toBe(4);
    expect(await allCalls(h)).toEqual([]);
    await pruner.close();
    await counted.close();
  });
});

/** Every stored call, page by page. */
async function countCalls(h: RoutingHarness): Promise<number> {
  let n = 0;
  let token = '';
  for (;;) {
    const r = await h.t.request('GET', `/v1.0/calls?page_token=${encodeURIComponent(token)}`);
    n += r.body.result.length;
    if (r.body.result.length < 100) return n;
    token = r.body.next_page_token;
  }
}

/**
 * A disk that is full for the calls table: the file may not grow (max_page_count), and small
 * call records, of the same customer and an earlier start than any real call, are written until
 * one no longer fits. A real record is bigger and goes to the same place in the table and its
 * indexes, so it cannot fit either. Returns the undo.
 */
async function fillCallsTable(h: RoutingHarness): Promise<() => void> {
  const db = sqliteDb(h.t.engine.store);
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
  const start = Date.now() - 3600_000;
  for (let i = 0; ; i++) {
    if (i === 50_000) throw new Error('the calls table did not fill up');
    const at = new Date(start + i).toISOString().replace(/Z$/, '000Z');
    try {
      await h.t.engine.store.calls.insertBatch([
        { call_id: `f${i}`, started_at: at, ended_at: at, source: '', caller: '', customer_id: DEFAULT_CUSTOMER, destination: null, outcome: 'failed', status: 404, reason: '', provider_id: null, hangup_by: null, talk_ms: null, duration_ms: 0, attempts: [] },
      ]);
    } catch (err) {
      if (!/full/.test((err as Error).message)) throw err;
      break;
    }
  }
  return () => {
    db.pragma('max_page_count = 1073741823');
  };
}

describe('a full or locked disk never fails or delays a call', () => {
  let h: RoutingHarness;
  const others: Database.Database[] = [];
  beforeAll(async () => {
    // A write that waited for the lock would wait this long, freezing the event loop: far past
    // sipp's own 15 s limit, so a sink that waited would fail the call.
    h = await startRoutingHarness({ db: { busyTimeoutMs: 60_000 } });
  });
  afterAll(async () => {
    for (const db of others) if (db.open) db.close();
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  const dropped = async () => {
    const text = (await h.t.request('GET', '/metrics', { token: null })).text;
    const m = /^outdial_call_records_dropped_total\{reason="write_failed"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  };

  it('disk full: calls connect, their records are dropped and counted, and storing resumes once there is room', async () => {
    const carrier = await h.carrier('carrier-answer.xml', {}, {});
    await h.provision(carrier, {});
    const makeRoom = await fillCallsTable(h);
    const before = await countCalls(h);
    const droppedBefore = await dropped();
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
    await h.t.engine.callRecords.flush();
    expect(await dropped()).toBe(droppedBefore + 1);
    const warning = h.t.logs.lines.filter((l) => l.msg === 'call records dropped').at(-1);
    expect(warning).toMatchObject({ level: 40, reason: 'write_failed', dropped: 1 });
    expect(String(warning!.err)).toMatch(/full/);
    expect(await countCalls(h)).toBe(before);

    makeRoom();
    await h.reset();
    const next = await h.carrier('carrier-answer.xml');
    await h.provision(next, {});
    const again = await h.platform('platform-call.xml', '+15551234567');
    expect(again.code, describeRun('platform', again)).toBe(0);
    await h.t.engine.callRecords.flush();
    expect(await countCalls(h)).toBe(before + 1);
    expect((await allCalls(h))[0]!.call_id).toBe(callIdOf(again));
    expect(h.t.logs.lines.some((l) => l.msg === 'call records stored again')).toBe(true);
  });

  it('read-only database: the call connects and its record is dropped', async () => {
    const carrier = await h.carrier('carrier-answer.xml');
    await h.provision(carrier, {});
    const before = await countCalls(h);
    const droppedBefore = await dropped();
    const db = sqliteDb(h.t.engine.store);
    db.pragma('query_only = 1');
    try {
      const platform = await h.platform('platform-call.xml', '+15551234567');
      expect(platform.code, describeRun('platform', platform)).toBe(0);
      await h.t.engine.callRecords.flush();
      expect(await dropped()).toBe(droppedBefore + 1);
    } finally {
      db.pragma('query_only = 0');
    }
    expect(await countCalls(h)).toBe(before);
  });

  it('database locked by another process (60 s busy timeout): calls go on, records wait in the queue and are stored once the lock is gone', async () => {
    const carriers = [await h.carrier('carrier-answer.xml'), await h.carrier('carrier-answer.xml')];
    await h.provision(carriers[0]!, { target: '+1555' });
    await h.provision(carriers[1]!, { target: '+1666' });
    const before = await countCalls(h);
    const other = new Database(h.t.dbPath);
    others.push(other);
    // (no admin write may happen now: it would wait out the busy timeout, as any SQLite writer does)
    other.exec('BEGIN IMMEDIATE');
    const platforms: SippResult[] = [];
    try {
      // The first call's record is queued when it ends; flushes then try every 250 ms during the
      // second call, which would stall (and fail) if a flush waited for the lock.
      for (const number of ['+15551234567', '+16661234567']) {
        const platform = await h.platform('platform-call.xml', number, { pauseMs: 1000 });
        expect(platform.code, describeRun('platform', platform)).toBe(0);
        platforms.push(platform);
      }
      expect(h.t.engine.callRecords.pending).toBe(2);
    } finally {
      other.exec('ROLLBACK');
    }
    await expect.poll(() => countCalls(h), { timeout: 5000 }).toBe(before + 2);
    expect((await allCalls(h, '?page_size=2')).map((c) => c.call_id)).toEqual(platforms.map(callIdOf).reverse());
    const health = await h.t.request('GET', '/healthz', { token: null });
    expect(health.status, health.text).toBe(200);
  });
});
