import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderInput } from '../../src/store/store.ts';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

const storeInput = (name: string): ProviderInput => ({
  type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name, detail: '', codecs: '',
});

let t: TestEngine | undefined;
let second: TestEngine | undefined;
afterEach(async () => {
  await second?.close(true);
  await t?.close();
  t = undefined;
  second = undefined;
});

/** Walks every page; returns the ids in order and the tokens seen. */
async function walk(e: TestEngine, path: string, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token = '';
  let pages = 0;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await e.request('GET', `${path}${sep}page_size=${pageSize}&page_token=${encodeURIComponent(token)}`);
    expect(r.status).toBe(200);
    pages++;
    if (r.body.result.length === 0) {
      expect(r.body.next_page_token).toBe('');
      return { ids, pages };
    }
    expect(r.body.result.length).toBeLessThanOrEqual(pageSize);
    ids.push(...r.body.result.map((x: { id: string }) => x.id));
    expect(r.body.next_page_token).toBe(r.body.result.at(-1).tm_create);
    token = r.body.next_page_token;
  }
}

describe('pagination', () => {
  it('returns every row exactly once, newest first, when all rows were created in the same microsecond', async () => {
    const frozen = Date.UTC(2026, 3, 23, 10) * 1000;
    t = await startTestEngine({ micros: () => frozen });
    const created: string[] = [];
    for (let i = 0; i < 137; i++) {
      // Half through HTTP, half straight into the store: the same clock serves both.
      created.push(i % 2 ? (await t.engine.store.providers.create(storeInput(`p${i}`))).id
        : (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: `p${i}` }) })).body.id);
    }
    for (const size of [1, 7, 50, 100]) {
      const { ids } = await walk(t, '/v1.0/providers', size);
      expect(ids).toEqual([...created].reverse());
    }
  }, 60_000);

  it('two instances on one database creating rows at once in the same microsecond: every row once, in creation order', async () => {
    const frozen = Date.UTC(2026, 3, 23, 11) * 1000;
    t = await startTestEngine({ micros: () => frozen });
    second = await startTestEngine({ storage: t.storage, micros: () => frozen });
    const token = await t.login();
    const made = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? second! : t!).request('POST', '/v1.0/providers', { token, body: providerBody({ name: `p${i}` }) }).then((r) => {
          expect(r.status).toBe(200);
          return r.body as { id: string; tm_create: string };
        }),
      ),
    );
    expect(new Set(made.map((p) => p.tm_create)).size).toBe(60);
    const newestFirst = [...made].sort((a, b) => (a.tm_create < b.tm_create ? 1 : -1)).map((p) => p.id);
    for (const [engine, size] of [[t, 7], [second, 25]] as const) expect((await walk(engine, '/v1.0/providers', size)).ids).toEqual(newestFirst);
  }, 60_000);

  it('defaults to 100 and treats an out-of-range page_size as 100', async () => {
    t = await startTestEngine();
    for (let i = 0; i < 105; i++) await t.engine.store.providers.create(storeInput(`p${i}`));
    for (const q of ['', '?page_size=0', '?page_size=101', '?page_size=-3', '?page_size=abc', '?page_size=2.5']) {
      const r = await t.request('GET', `/v1.0/providers${q}`);
      expect([q, r.body.result.length]).toEqual([q, 100]);
    }
    expect((await t.request('GET', '/v1.0/providers?page_size=5')).body.result).toHaveLength(5);
  });

  it('answers an empty list with result [] and next_page_token ""', async () => {
    t = await startTestEngine();
    const r = await t.request('GET', '/v1.0/routes');
    expect(r.body).toEqual({ result: [], next_page_token: '' });
  });

  it('accepts a VoIPBIN-style "YYYY-MM-DD HH:MM:SS.ffffff" page token', async () => {
    t = await startTestEngine();
    const a = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'a' }) })).body;
    const b = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'b' }) })).body;
    const legacy = b.tm_create.replace('T', ' ').replace('Z', '');
    const r = await t.request('GET', `/v1.0/providers?page_token=${encodeURIComponent(legacy)}`);
    expect(r.body.result.map((p: { id: string }) => p.id)).toEqual([a.id]);
  });

  it('filters routes by customer_id and skips deleted rows across pages', async () => {
    const frozen = Date.UTC(2026, 3, 23, 10) * 1000;
    t = await startTestEngine({ micros: () => frozen });
    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    const customer = '7d0d8c4e-3f7a-4d7e-9a8b-0c1d2e3f4a5b';
    const mine: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = (await t.request('POST', '/v1.0/routes', { body: routeBody(p.id, { customer_id: i % 3 ? customer : '00000000-0000-0000-0000-000000000001', target: `+${i + 1}` }) })).body;
      if (i % 3) mine.push(r.id);
    }
    const gone = mine.splice(4, 1)[0]!;
    expect((await t.request('DELETE', `/v1.0/routes/${gone}`)).status).toBe(200);
    const { ids } = await walk(t, `/v1.0/routes?customer_id=${customer}`, 3);
    expect(ids).toEqual([...mine].reverse());
    expect((await walk(t, '/v1.0/routes', 4)).ids).toHaveLength(29);
  });
});
