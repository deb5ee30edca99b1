import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/errors.ts';
import type { CallRecordInput, ProviderCallResult, Store } from '../../../src/store/store.ts';

/**
 * The contract of CallStore and ProviderCallStore (src/store/store-types.ts), as one suite that
 * every store implementation runs (SQLite today; the PostgreSQL store runs it too). `open` gives
 * a fresh, empty store; the suite closes it.
 */

const DEFAULT_CUSTOMER = '00000000-0000-0000-0000-000000000001';
const CUSTOMER = '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60';

/** 2026-04-23T10:00:00 plus `ms`, in the API's time format. */
export function at(ms: number): string {
  return new Date(Date.UTC(2026, 3, 23, 10, 0, 0) + ms).toISOString().replace(/Z$/, '000Z');
}

export function callInput(i: number, over: Partial<CallRecordInput> = {}): CallRecordInput {
  return {
    call_id: `call-${i}`,
    started_at: at(i * 1000),
    ended_at: at(i * 1000 + 500),
    source: '127.0.0.1:5070',
    caller: '+15550001111',
    customer_id: DEFAULT_CUSTOMER,
    destination: '+15551234567',
    outcome: 'connected',
    status: 200,
    reason: '',
    provider_id: 'p1',
    hangup_by: 'platform',
    talk_ms: 400,
    duration_ms: 500,
    attempts: [{ route_id: 'r1', provider_id: 'p1', request_uri: 'sip:+15551234567@carrier.example', status: 200, reason: '', started_ms: 2, duration_ms: 90 }],
    ...over,
  };
}

export function callStoreContract(name: string, open: () => Promise<Store>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name}: CallStore`, () => {
    it('stores a batch and reads it back as written, with an id, tm_create = started_at and tm_hangup = ended_at', withStore(async (store) => {
      expect(await store.calls.insertBatch([callInput(1), callInput(2, { outcome: 'failed', status: 503, reason: 'Service Unavailable', provider_id: null, hangup_by: null, talk_ms: null, customer_id: null, destination: null })])).toBe('written');
      const page = await store.calls.list({ pageSize: 10, pageToken: '' });
      expect(page.items.map((r) => r.call_id)).toEqual(['call-2', 'call-1']);
      const [second, first] = page.items as [NonNullable<(typeof page.items)[0]>, NonNullable<(typeof page.items)[0]>];
      expect(first).toEqual({ ...withoutTimes(callInput(1)), id: expect.any(String), tm_create: at(1000), tm_hangup: at(1500) });
      expect(second).toMatchObject({ outcome: 'failed', status: 503, customer_id: null, destination: null, provider_id: null, hangup_by: null, talk_ms: null });
      expect(await store.calls.get(first.id)).toEqual(first);
      expect(await store.calls.get('11111111-1111-4111-8111-111111111111')).toBeUndefined();
      expect(page.nextPageToken).toBe(first.tm_create);
      expect(await store.calls.insertBatch([])).toBe('written');
    }));

    it('writes a batch whole or not at all', withStore(async (store) => {
      await expect(store.calls.insertBatch([callInput(1), callInput(2, { started_at: 'yesterday' })])).rejects.toThrow();
      expect((await store.calls.list({ pageSize: 10, pageToken: '' })).items).toEqual([]);
    }));

    it('makes tm_create unique: calls starting in the same microsecond are set apart in start order, within and across batches', withStore(async (store) => {
      const same = at(0);
      await store.calls.insertBatch([callInput(1, { started_at: same }), callInput(2, { started_at: same })]);
      await store.calls.insertBatch([callInput(3, { started_at: same })]);
      const items = (await store.calls.list({ pageSize: 10, pageToken: '' })).items;
      expect(items.map((r) => [r.call_id, r.tm_create])).toEqual([
        ['call-3', '2026-04-23T10:00:00.000002Z'],
        ['call-2', '2026-04-23T10:00:00.000001Z'],
        ['call-1', '2026-04-23T10:00:00.000000Z'],
      ]);
    }));

    it('pages 250 records without skipping or repeating one', withStore(async (store) => {
      await store.calls.insertBatch(Array.from({ length: 250 }, (_, i) => callInput(i, { started_at: at(i % 7) })));
      const seen: string[] = [];
      let token = '';
      for (let round = 0; round < 10; round++) {
        const page = await store.calls.list({ pageSize: 100, pageToken: token });
        if (page.items.length === 0) break;
        seen.push(...page.items.map((r) => r.call_id));
        token = page.nextPageToken;
      }
      expect(seen).toHaveLength(250);
      expect(new Set(seen).size).toBe(250);
    }));

    it('filters by customer, destination prefix, outcome, status and time, together and with pages', withStore(async (store) => {
      await store.calls.insertBatch([
        callInput(1),
        callInput(2, { customer_id: CUSTOMER, destination: '+442071234567' }),
        callInput(3, { outcome: 'failed', status: 486, reason: 'Busy Here' }),
        callInput(4, { customer_id: CUSTOMER, destination: '+15559990000', outcome: 'failed', status: 503 }),
        callInput(5, { customer_id: null, destination: null, outcome: 'failed', status: 484 }),
      ]);
      const ids = async (filter: Parameters<Store['calls']['list']>[0]) => (await store.calls.list(filter)).items.map((r) => r.call_id);
      const page = { pageSize: 100, pageToken: '' };
      expect(await ids({ ...page, customerId: CUSTOMER })).toEqual(['call-4', 'call-2']);
      expect(await ids({ ...page, destinationPrefix: '+1555' })).toEqual(['call-4', 'call-3', 'call-1']);
      expect(await ids({ ...page, destinationPrefix: '+15559' })).toEqual(['call-4']);
      expect(await ids({ ...page, destinationPrefix: '+44' })).toEqual(['call-2']);
      expect(await ids({ ...page, outcome: 'failed' })).toEqual(['call-5', 'call-4', 'call-3']);
      expect(await ids({ ...page, status: 486 })).toEqual(['call-3']);
      expect(await ids({ ...page, since: at(2000), until: at(4000) })).toEqual(['call-3', 'call-2']);
      expect(await ids({ ...page, since: at(2001) })).toEqual(['call-5', 'call-4', 'call-3']);
      expect(await ids({ ...page, until: at(1000) })).toEqual([]);
      expect(await ids({ ...page, customerId: CUSTOMER, outcome: 'failed', destinationPrefix: '+1' })).toEqual(['call-4']);
      const first = await store.calls.list({ pageSize: 1, pageToken: '', outcome: 'failed' });
      expect(await ids({ pageSize: 5, pageToken: first.nextPageToken, outcome: 'failed' })).toEqual(['call-4', 'call-3']);
    }));

    it('prunes oldest first, at most `limit` per call, only before the cut-off', withStore(async (store) => {
      await store.calls.insertBatch(Array.from({ length: 5 }, (_, i) => callInput(i)));
      expect(await store.calls.pruneBefore(at(3000), 2)).toBe(2);
      expect((await store.calls.list({ pageSize: 10, pageToken: '' })).items.map((r) => r.call_id)).toEqual(['call-4', 'call-3', 'call-2']);
      expect(await store.calls.pruneBefore(at(3000), 2)).toBe(1);
      expect(await store.calls.pruneBefore(at(3000), 2)).toBe(0);
      expect(await store.calls.pruneBefore(at(99_000), 100)).toBe(2);
    }));
  });

  describe(`${name}: ProviderCallStore`, () => {
    const provider = async (store: Store) =>
      store.providers.create({ type: 'sip', hostname: 'carrier.example', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: 'PCMA' });
    const input = (providerId: string) => ({ provider_id: providerId, destination: '+15551234567', source: '', request_uri: 'sip:+15551234567@carrier.example', codecs: ['PCMA'] });
    const result = (over: Partial<ProviderCallResult> = {}): ProviderCallResult => ({
      status: 'failed', sip_status: 486, sip_reason: 'Busy Here', reason: 'the carrier refused the call: 486 Busy Here', tm_ringing: null, tm_answer: null, tm_hangup: at(9000), ...over,
    });

    it('creates a test call in status calling, then records its one result', withStore(async (store) => {
      const p = await provider(store);
      const created = await store.providerCalls.create(input(p.id));
      expect(created).toEqual({
        ...input(p.id), id: expect.any(String), status: 'calling', sip_status: null, sip_reason: '', reason: '',
        tm_ringing: null, tm_answer: null, tm_hangup: null, tm_create: expect.any(String), tm_update: created.tm_create,
      });
      const done = await store.providerCalls.finish(created.id, result({ status: 'answered', sip_status: 200, sip_reason: '', reason: 'answered', tm_ringing: at(1), tm_answer: at(2) }));
      expect(done).toMatchObject({ status: 'answered', sip_status: 200, tm_ringing: at(1), tm_answer: at(2), tm_hangup: at(9000), tm_create: created.tm_create });
      expect(done.tm_update > created.tm_update).toBe(true);
      expect(await store.providerCalls.get(created.id)).toEqual(done);
      // a result is recorded once
      await expect(store.providerCalls.finish(created.id, result())).rejects.toMatchObject({ reason: 'PROVIDER_CALL_NOT_FOUND' });
      await expect(store.providerCalls.finish('11111111-1111-4111-8111-111111111111', result())).rejects.toBeInstanceOf(ApiError);
    }));

    it('refuses a test call through a missing or deleted provider (400 PROVIDER_NOT_FOUND)', withStore(async (store) => {
      await expect(store.providerCalls.create(input('11111111-1111-4111-8111-111111111111'))).rejects.toMatchObject({ reason: 'PROVIDER_NOT_FOUND', httpCode: 400 });
      const p = await provider(store);
      await store.providers.softDelete(p.id);
      await expect(store.providerCalls.create(input(p.id))).rejects.toMatchObject({ reason: 'PROVIDER_NOT_FOUND', httpCode: 400 });
    }));

    it('lists newest first, by provider, and pages', withStore(async (store) => {
      const [a, b] = [await provider(store), await provider(store)];
      const made = [];
      for (const p of [a, b, a]) made.push(await store.providerCalls.create(input(p.id)));
      expect((await store.providerCalls.list({ pageSize: 10, pageToken: '' })).items.map((r) => r.id)).toEqual(made.map((r) => r.id).reverse());
      expect((await store.providerCalls.list({ pageSize: 10, pageToken: '', providerId: a.id })).items.map((r) => r.id)).toEqual([made[2]!.id, made[0]!.id]);
      const first = await store.providerCalls.list({ pageSize: 1, pageToken: '' });
      expect((await store.providerCalls.list({ pageSize: 5, pageToken: first.nextPageToken })).items.map((r) => r.id)).toEqual([made[1]!.id, made[0]!.id]);
    }));

    it('marks test calls left calling by a stopped process as failed, and prunes only finished ones', withStore(async (store) => {
      const p = await provider(store);
      const stale = await store.providerCalls.create(input(p.id));
      const finished = await store.providerCalls.create(input(p.id));
      await store.providerCalls.finish(finished.id, result());
      const fresh = await store.providerCalls.create(input(p.id));
      expect(await store.providerCalls.failUnfinished(fresh.tm_create, 'outdial stopped during the call')).toBe(1);
      expect(await store.providerCalls.get(stale.id)).toMatchObject({ status: 'failed', reason: 'outdial stopped during the call', tm_hangup: expect.any(String) });
      expect((await store.providerCalls.get(fresh.id))!.status).toBe('calling');
      expect(await store.providerCalls.pruneBefore('9999-01-01T00:00:00.000000Z', 10)).toBe(2);
      expect((await store.providerCalls.list({ pageSize: 10, pageToken: '' })).items.map((r) => r.id)).toEqual([fresh.id]);
    }));
  });
}

function withoutTimes(r: CallRecordInput) {
  const { started_at: _s, ended_at: _e, ...rest } = r;
  return rest;
}
