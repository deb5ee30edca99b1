import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallRecordSink, callRecordInputOf } from '../../src/call/call-record-sink.ts';
import type { CallRecord } from '../../src/call/call-record.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { openStore, type CallRecordInput, type CallStore, type Store } from '../../src/store/store.ts';
import { sqliteDb } from '../admin/support/sqlite-db.ts';

/**
 * The record sink against a real SQLite file: batching, the bounded queue, drops that are
 * counted and warned about at a limited rate, and close.
 */

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outdial-sink-'));
  store = await openStore({ path: join(dir, 'outdial.db'), logger: createCapturingLogger('silent').logger });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function record(i: number, over: Partial<CallRecord> = {}): CallRecord {
  return {
    call_id: `call-${i}`,
    started_at: new Date(Date.UTC(2026, 3, 23, 10, 0, 0, i)).toISOString(),
    source: '127.0.0.1:5070',
    caller: '+15550001111',
    customer_id: '00000000-0000-0000-0000-000000000001',
    destination: '+15551234567',
    attempts: [{ route_id: 'r1', provider_id: 'p1', request_uri: 'sip:+15551234567@127.0.0.1:5080', status: 503, note: 'Service Unavailable', started_ms: 1, duration_ms: 20 }],
    outcome: 'failed',
    status: 503,
    reason: 'Service Unavailable',
    duration_ms: 25,
    ...over,
  };
}

/** Counts the batches handed to the real store. */
function counting(inner: CallStore): { store: Pick<CallStore, 'insertBatch'>; batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    store: {
      insertBatch: async (records: readonly CallRecordInput[]) => {
        batches.push(records.length);
        return inner.insertBatch(records);
      },
    },
  };
}

async function metric(registry: Registry, name: string, label = ''): Promise<number> {
  const text = await registry.metrics();
  const m = new RegExp(`^${name}${label.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const storedCount = () => (sqliteDb(store).prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;

describe('CallRecordSink', () => {
  it('stores records in batches, one transaction each, in the shape the API serves', async () => {
    const c = counting(store.calls);
    const logs = createCapturingLogger();
    const sink = new CallRecordSink({ store: c.store, logger: logs.logger, batchSize: 200 });
    for (let i = 0; i < 450; i++) sink.push(record(i));
    expect(sink.pending).toBe(450);
    await sink.flush();
    expect(c.batches).toEqual([200, 200, 50]);
    expect(storedCount()).toBe(450);
    const [newest] = (await store.calls.list({ pageSize: 1, pageToken: '' })).items;
    expect(newest).toMatchObject({
      call_id: 'call-449',
      tm_create: '2026-04-23T10:00:00.449000Z',
      tm_hangup: '2026-04-23T10:00:00.474000Z',
      reason: 'Service Unavailable',
      attempts: [{ route_id: 'r1', provider_id: 'p1', request_uri: 'sip:+15551234567@127.0.0.1:5080', status: 503, reason: 'Service Unavailable', started_ms: 1, duration_ms: 20 }],
      provider_id: null,
      hangup_by: null,
      talk_ms: null,
    });
    await sink.close();
  });

  it('flushes by itself: after the interval, or at once when a batch is full', async () => {
    const c = counting(store.calls);
    const sink = new CallRecordSink({ store: c.store, logger: createCapturingLogger().logger, batchSize: 3, flushIntervalMs: 50 });
    sink.push(record(1));
    expect(c.batches).toEqual([]); // push never writes
    await expect.poll(() => c.batches, { timeout: 2000 }).toEqual([1]);
    for (let i = 2; i <= 4; i++) sink.push(record(i));
    await expect.poll(() => storedCount(), { timeout: 2000 }).toBe(4);
    expect(c.batches[1]).toBe(3);
    await sink.close();
  });

  it('gives every record a unique tm_create, in start order, when calls start in the same millisecond', async () => {
    const sink = new CallRecordSink({ store: store.calls, logger: createCapturingLogger().logger });
    const same = new Date(Date.UTC(2026, 3, 23, 10, 0, 0, 5)).toISOString();
    for (let i = 0; i < 3; i++) sink.push(record(i, { started_at: same }));
    await sink.flush();
    sink.push(record(3, { started_at: same }));
    await sink.close();
    const page = await store.calls.list({ pageSize: 10, pageToken: '' });
    expect(page.items.map((r) => [r.call_id, r.tm_create])).toEqual([
      ['call-3', '2026-04-23T10:00:00.005003Z'],
      ['call-2', '2026-04-23T10:00:00.005002Z'],
      ['call-1', '2026-04-23T10:00:00.005001Z'],
      ['call-0', '2026-04-23T10:00:00.005000Z'],
    ]);
  });

  it('bounds the queue: a store that never answers (a hung disk) costs dropped records, counted, never a blocked push', async () => {
    let now = 0;
    const logs = createCapturingLogger();
    const stalled = { insertBatch: () => new Promise<'written'>(() => undefined) };
    const registry = new Registry();
    const sink = new CallRecordSink({ store: stalled, logger: logs.logger, maxQueued: 5, batchSize: 2, warnIntervalMs: 10_000, now: () => now });
    sink.registerMetrics(registry);
    for (let i = 0; i < 8; i++) sink.push(record(i));
    expect(sink.pending).toBe(5);
    expect(await metric(registry, 'outdial_call_records_dropped_total', '{reason="queue_full"}')).toBe(3);
    expect(await metric(registry, 'outdial_call_records_queued')).toBe(5);
    // one warning for the first drop; the next two are held back within the interval
    const warnings = () => logs.lines.filter((l) => l.msg === 'call records dropped');
    expect(warnings()).toEqual([expect.objectContaining({ level: 40, reason: 'queue_full', dropped: 1 })]);
    now = 10_000;
    sink.push(record(9));
    expect(warnings().at(-1)).toMatchObject({ reason: 'queue_full', dropped: 3 });
    expect(warnings()).toHaveLength(2);
  });

  it('drops a batch the store cannot write (read-only database): counted, warned once per interval, and stores again afterwards', async () => {
    const logs = createCapturingLogger();
    const registry = new Registry();
    const sink = new CallRecordSink({ store: store.calls, logger: logs.logger, batchSize: 2 });
    sink.registerMetrics(registry);
    sqliteDb(store).pragma('query_only = 1');
    for (let i = 0; i < 5; i++) sink.push(record(i));
    await sink.flush();
    expect(sink.pending).toBe(0);
    expect(await metric(registry, 'outdial_call_records_dropped_total', '{reason="write_failed"}')).toBe(5);
    const warnings = logs.lines.filter((l) => l.msg === 'call records dropped');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ reason: 'write_failed', dropped: 2 });
    expect(String(warnings[0]!.err)).toMatch(/readonly|read-only/i);

    sqliteDb(store).pragma('query_only = 0');
    sink.push(record(10));
    await sink.flush();
    expect(storedCount()).toBe(1);
    expect(await metric(registry, 'outdial_call_records_written_total')).toBe(1);
    // the drops held back are told on recovery, then that storing works again
    const after = logs.lines.slice(logs.lines.indexOf(warnings[0]!) + 1).map((l) => [l.msg, l.dropped]);
    expect(after).toEqual([['call records dropped', 3], ['call records stored again', undefined]]);
    await sink.close();
  });

  it('keeps a batch another writer\'s lock refused, and stores it once the lock is gone', async () => {
    const other = (await import('better-sqlite3')).default;
    const db = new other(join(dir, 'outdial.db'));
    try {
      const sink = new CallRecordSink({ store: store.calls, logger: createCapturingLogger().logger, flushIntervalMs: 20 });
      db.exec('BEGIN IMMEDIATE');
      sink.push(record(1));
      await sink.flush();
      expect(sink.pending).toBe(1);
      expect(storedCount()).toBe(0);
      db.exec('ROLLBACK');
      await expect.poll(() => storedCount(), { timeout: 2000 }).toBe(1);
      expect(sink.pending).toBe(0);
      await sink.close();
    } finally {
      db.close();
    }
  });

  it('writes what is queued on close; a record pushed after close is dropped as closed', async () => {
    const registry = new Registry();
    const sink = new CallRecordSink({ store: store.calls, logger: createCapturingLogger().logger, flushIntervalMs: 60_000 });
    sink.registerMetrics(registry);
    sink.push(record(1));
    sink.push(record(2));
    await sink.close();
    expect(storedCount()).toBe(2);
    sink.push(record(3));
    expect(await metric(registry, 'outdial_call_records_dropped_total', '{reason="closed"}')).toBe(1);
    expect(storedCount()).toBe(2);
  });

  it('maps a record to the stored shape without losing anything the API shows', () => {
    const connected = record(7, { outcome: 'connected', status: 200, reason: undefined, provider_id: 'p1', hangup_by: 'carrier', talk_ms: 5000, duration_ms: 5100 } as Partial<CallRecord>);
    expect(callRecordInputOf(connected)).toMatchObject({ outcome: 'connected', status: 200, reason: '', provider_id: 'p1', hangup_by: 'carrier', talk_ms: 5000, duration_ms: 5100, started_at: '2026-04-23T10:00:00.007000Z', ended_at: '2026-04-23T10:00:05.107000Z' });
    const refused = record(8, { customer_id: undefined, destination: undefined, status: 484, attempts: [] });
    expect(callRecordInputOf(refused)).toMatchObject({ customer_id: null, destination: null, status: 484, attempts: [] });
  });
});
