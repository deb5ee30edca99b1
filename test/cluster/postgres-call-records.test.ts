/**
 * Call records and provider test calls on a real PostgreSQL 15 (docs/api.md "Call records",
 * "Provider test calls"; docs/cluster.md §8): the same rows and answers as the SQLite store, with
 * several instances recording at once. The API over them is tested on SQLite in test/records.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { CALL_RECORDS_LOCK } from '../../src/store/postgres/postgres-migrations.ts';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { CallRecordInput, ProviderInput } from '../../src/store/store.ts';
import { createTestDatabase, preparePostgresForEngines } from '../support/postgres-databases.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

let server: PostgresServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  server = await startPostgres();
  await preparePostgresForEngines(server.url);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await server?.stop();
});

async function database(): Promise<string> {
  const db = await createTestDatabase(server.url);
  cleanups.push(() => db.drop());
  return db.url;
}

async function open(url: string): Promise<PostgresStore> {
  const store = await openPostgresStore({ url, logger: createCapturingLogger('debug').logger });
  cleanups.push(() => store.close());
  return store;
}

const CUSTOMER = '00000000-0000-0000-0000-000000000001';

function record(n: number, over: Partial<CallRecordInput> = {}): CallRecordInput {
  return {
    call_id: `call-${n}@platform`,
    started_at: '2026-11-30T10:00:00.000000Z',
    ended_at: '2026-11-30T10:00:05.000000Z',
    source: '127.0.0.1:5070',
    caller: 'alice',
    customer_id: CUSTOMER,
    destination: '+15551230000',
    outcome: 'connected',
    status: 200,
    reason: 'answered',
    provider_id: null,
    hangup_by: 'platform',
    talk_ms: 4000,
    duration_ms: 5000,
    attempts: [{ route_id: 'r1', provider_id: 'p1', request_uri: 'sip:+15551230000@carrier.example.com', status: 200, reason: 'OK', started_ms: 1, duration_ms: 900 }],
    ...over,
  };
}

const provider: ProviderInput = { type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: '' };

describe('call records on PostgreSQL', () => {
  it('two instances writing batches of calls that started in the same microsecond: every record stored once, tm_create unique, paged without skips or repeats', async () => {
    const url = await database();
    const [a, b] = await Promise.all([open(url), open(url)]);
    const batch = (store: PostgresStore, tag: string) => Array.from({ length: 50 }, (_, i) => record(i, { call_id: `${tag}-${i}` }));
    // Each instance flushes until written, as the record sink does after a `busy`.
    const flush = async (store: PostgresStore, tag: string) => {
      for (let i = 0; i < 5; i++) {
        const records = batch(store, `${tag}${i}`);
        while ((await store.calls.insertBatch(records)) === 'busy') await new Promise((r) => setTimeout(r, 5));
      }
    };
    await Promise.all([flush(a, 'a'), flush(b, 'b')]);

    const seen: string[] = [];
    const stamps = new Set<string>();
    let token = '';
    for (;;) {
      const page = await b.calls.list({ pageSize: 37, pageToken: token });
      for (const row of page.items) {
        seen.push(row.call_id);
        stamps.add(row.tm_create);
      }
      if (page.nextPageToken === '') break;
      token = page.nextPageToken;
    }
    expect(seen).toHaveLength(500);
    expect(new Set(seen).size).toBe(500);
    expect(stamps.size).toBe(500);
    // newest first, and each stamp at or just after the shared start
    const sorted = [...stamps].sort();
    expect(sorted[0]).toBe('2026-11-30T10:00:00.000000Z');
    expect(sorted[499]).toBe('2026-11-30T10:00:00.000499Z');
  });

  it('reads a record back as written (numbers, nulls, attempts) and filters as the SQLite store does', async () => {
    const url = await database();
    const store = await open(url);
    expect(
      await store.calls.insertBatch([
        record(1, { started_at: '2026-11-30T10:00:01.000000Z', destination: '+15551230000', duration_ms: 30 * 86_400_000 }),
        record(2, { started_at: '2026-11-30T10:00:02.000000Z', destination: '+4930123', outcome: 'failed', status: 503, talk_ms: null, hangup_by: null, customer_id: null }),
        record(3, { started_at: '2026-11-30T10:00:03.000000Z', destination: null, outcome: 'failed', status: 404 }),
      ]),
    ).toBe('written');
    const all = await store.calls.list({ pageSize: 10, pageToken: '' });
    expect(all.items.map((r) => r.call_id)).toEqual(['call-3@platform', 'call-2@platform', 'call-1@platform']);
    const one = await store.calls.get(all.items[2]!.id);
    expect(one).toMatchObject({ call_id: 'call-1@platform', duration_ms: 30 * 86_400_000, talk_ms: 4000, status: 200, tm_hangup: '2026-11-30T10:00:05.000000Z' });
    expect(one!.attempts).toEqual(record(1).attempts);
    const failed = await store.calls.get(all.items[1]!.id);
    expect(failed).toMatchObject({ talk_ms: null, hangup_by: null, customer_id: null, status: 503 });

    const ids = async (filter: Record<string, unknown>) => (await store.calls.list({ pageSize: 10, pageToken: '', ...filter })).items.map((r) => r.call_id);
    expect(await ids({ destinationPrefix: '+1555' })).toEqual(['call-1@platform']);
    expect(await ids({ destinationPrefix: '+' })).toEqual(['call-2@platform', 'call-1@platform']);
    expect(await ids({ outcome: 'failed' })).toEqual(['call-3@platform', 'call-2@platform']);
    expect(await ids({ status: 404 })).toEqual(['call-3@platform']);
    expect(await ids({ customerId: CUSTOMER })).toEqual(['call-3@platform', 'call-1@platform']);
    expect(await ids({ since: '2026-11-30T10:00:02.000000Z', until: '2026-11-30T10:00:03.000000Z' })).toEqual(['call-2@platform']);
    expect(await store.calls.get('no-such-id')).toBeUndefined();
  });

  it('never waits for another instance holding the records lock: busy and nothing written; prune resolves 0; both work once it is free', async () => {
    const url = await database();
    const store = await open(url);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    cleanups.push(() => holder.end().catch(() => {}));
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(${CALL_RECORDS_LOCK})`);
    expect(await store.calls.insertBatch([record(1)])).toBe('busy');
    expect(await store.calls.pruneBefore('2027-01-01T00:00:00.000000Z', 10)).toBe(0);
    expect((await store.calls.list({ pageSize: 10, pageToken: '' })).items).toHaveLength(0);
    await holder.query('COMMIT');
    expect(await store.calls.insertBatch([record(1), record(2, { started_at: '2026-11-30T11:00:00.000000Z' })])).toBe('written');
    expect(await store.calls.pruneBefore('2026-11-30T10:30:00.000000Z', 10)).toBe(1);
    expect((await store.calls.list({ pageSize: 10, pageToken: '' })).items.map((r) => r.call_id)).toEqual(['call-2@platform']);
  });

  it('a record that cannot be stored rolls back its whole batch', async () => {
    const url = await database();
    const store = await open(url);
    await expect(store.calls.insertBatch([record(1), record(2, { outcome: 'bogus' as 'failed' })])).rejects.toThrow();
    expect((await store.calls.list({ pageSize: 10, pageToken: '' })).items).toHaveLength(0);
  });
});

describe('provider test calls on PostgreSQL', () => {
  it('create → finish → list per provider; a finished call cannot be finished again; unfinished ones fail; prune keeps calling ones', async () => {
    const url = await database();
    const store = await open(url);
    const p = await store.providers.create(provider);
    const q = await store.providers.create({ ...provider, name: 'q' });
    const input = { provider_id: p.id, destination: '+15551230000', source: '', request_uri: 'sip:+15551230000@sip.example.com', codecs: ['PCMU'] };
    const first = await store.providerCalls.create(input);
    expect(first).toMatchObject({ status: 'calling', codecs: ['PCMU'], sip_status: null, sip_reason: '', tm_hangup: null });
    const other = await store.providerCalls.create({ ...input, provider_id: q.id });
    const done = await store.providerCalls.finish(first.id, {
      status: 'answered', sip_status: 200, sip_reason: 'OK', reason: 'answered', tm_ringing: null, tm_answer: '2026-11-30T10:00:01.000000Z', tm_hangup: '2026-11-30T10:00:02.000000Z',
    });
    expect(done).toMatchObject({ status: 'answered', sip_status: 200, tm_answer: '2026-11-30T10:00:01.000000Z' });
    expect(done.tm_update > first.tm_update).toBe(true);
    await expect(store.providerCalls.finish(first.id, { status: 'failed', sip_status: null, sip_reason: '', reason: 'x', tm_ringing: null, tm_answer: null, tm_hangup: '2026-11-30T10:00:03.000000Z' })).rejects.toSatisfy(
      (e: unknown) => e instanceof ApiError && e.reason === 'PROVIDER_CALL_NOT_FOUND',
    );
    expect((await store.providerCalls.list({ pageSize: 10, pageToken: '', providerId: p.id })).items.map((c) => c.id)).toEqual([first.id]);
    expect((await store.providerCalls.list({ pageSize: 10, pageToken: '' })).items.map((c) => c.id)).toEqual([other.id, first.id]);

    expect(await store.providerCalls.pruneBefore('9000-01-01T00:00:00.000000Z', 10)).toBe(1); // the answered one only
    expect(await store.providerCalls.failUnfinished('9000-01-01T00:00:00.000000Z', 'outdial stopped during the call')).toBe(1);
    expect(await store.providerCalls.get(other.id)).toMatchObject({ status: 'failed', reason: 'outdial stopped during the call' });
  });

  it('refuses a deleted or unknown provider with PROVIDER_NOT_FOUND and writes nothing', async () => {
    const url = await database();
    const store = await open(url);
    const p = await store.providers.create(provider);
    await store.providers.softDelete(p.id);
    for (const id of [p.id, '00000000-0000-0000-0000-00000000dead']) {
      await expect(store.providerCalls.create({ provider_id: id, destination: '+1555', source: '', request_uri: 'sip:x@y', codecs: [] })).rejects.toSatisfy(
        (e: unknown) => e instanceof ApiError && e.reason === 'PROVIDER_NOT_FOUND',
      );
    }
    expect((await store.providerCalls.list({ pageSize: 10, pageToken: '' })).items).toHaveLength(0);
  });
});
