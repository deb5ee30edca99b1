import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * Provider registration (docs/routing.md §9) against sipp registrars: the challenge answered,
 * refreshes before a short expiry, Expires: 0 when the provider is deleted, a refusal making the
 * provider "failed" and ordering it last.
 */
const USER = 'reg-user-31';
const PASSWORD = 'register me, 7 times';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const registers = (messages: string) => messages.split(/\n(?=-{10,})/).filter((b) => /received/i.test(b) && /^REGISTER /m.test(b));

describe('provider registration', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    // a failed REGISTER is retried only after a minute: the refusal test sees one REGISTER
    h = await startRoutingHarness({ register: { retryMs: 60_000, retryMaxMs: 60_000 } });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  it('registers through the challenge, refreshes before a short expiry, shows it, and sends Expires: 0 when deleted', async () => {
    const registrar = await h.carrier('registrar-auth.xml', { username: USER, password: PASSWORD, expires: '4', expires_ms: '4000' });
    const created = await h.t.request('POST', '/v1.0/providers', {
      body: { type: 'sip', hostname: `127.0.0.1:${registrar.port}`, name: 'registered trunk', auth_username: USER, auth_password: PASSWORD, register: true, register_expires: 300 },
    });
    expect(created.status, created.text).toBe(200);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ register: true, register_expires: 300, registration_status: 'registering' });

    const first = await until('registered', async () => {
      const p = (await h.t.request('GET', `/v1.0/providers/${id}`)).body;
      return p.registration_status === 'registered' ? p : undefined;
    });
    expect(first.registration_checked_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // the registrar granted 4 s: the refresh comes at 2 s (each one is a new answer time)
    await until('a refresh', async () => {
      const p = (await h.t.request('GET', `/v1.0/providers/${id}`)).body;
      return p.registration_checked_at !== first.registration_checked_at && p.registration_status === 'registered' ? p : undefined;
    });
    expect((await h.t.request('DELETE', `/v1.0/providers/${id}`)).status).toBe(200);
    const run = await registrar.done;
    expect(run.code, describeRun('registrar', run)).toBe(0);

    const seen = registers(run.messages);
    const field = (b: string, name: string) => new RegExp(`^${name}:\\s*(.+?)\\s*$`, 'im').exec(b)?.[1];
    expect(seen.length).toBeGreaterThanOrEqual(6); // register, refresh, removal: each challenged once
    expect(new Set(seen.map((b) => field(b, 'Call-ID'))).size).toBe(1);
    // RFC 3261 §10.2.4: every new REGISTER takes a higher CSeq. A Timer E retransmission (a busy
    // machine) repeats its request, branch and CSeq included: it is the same transaction.
    const branchOf = (b: string) => /branch=([^;,\s]+)/.exec(field(b, 'Via') ?? '')?.[1];
    const transactions = [...new Map(seen.map((b) => [branchOf(b), b])).values()];
    expect(transactions.length).toBeGreaterThanOrEqual(6);
    const cseqs = transactions.map((b) => Number(field(b, 'CSeq')?.split(' ')[0]));
    expect(cseqs).toEqual([...cseqs].sort((a, b) => a - b));
    expect(new Set(cseqs).size).toBe(cseqs.length);
    expect(seen[0]).toMatch(new RegExp(`^REGISTER sip:127\\.0\\.0\\.1:${registrar.port} SIP/2\\.0`, 'm'));
    expect(field(seen[0]!, 'To')).toBe(`<sip:${USER}@127.0.0.1:${registrar.port}>`);
    expect(field(seen[0]!, 'Contact')).toMatch(new RegExp(`^<sip:${USER}@127\\.0\\.0\\.1:\\d+>$`));
    expect(field(seen[0]!, 'Expires')).toBe('300');
    const last = seen.at(-1)!;
    expect(field(last, 'Expires')).toBe('0');
    expect(field(last, 'Authorization')).toMatch(/^Digest username="reg-user-31", realm="registrar\.example"/);
    expect(h.t.logs.text()).not.toContain(PASSWORD);
  });

  it('a registrar that refuses: "failed", and the provider is tried last', async () => {
    const registrar = await h.carrier('registrar-refuses.xml');
    const refused = await h.provision(registrar, { priority: 1 }, { auth_username: USER, auth_password: PASSWORD, register: true });
    const other = await h.provision('127.0.0.1:9', { priority: 2 });
    expect((await registrar.done).code).toBe(0);
    await until('failed', async () => {
      const p = (await h.t.request('GET', `/v1.0/providers/${refused}`)).body;
      return p.registration_status === 'failed' ? p : undefined;
    });
    const plan = await until('the plan reordered', async () => {
      const r = await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567');
      const ids = (r.body.result as Array<{ provider: { id: string } }>).map((x) => x.provider.id);
      return ids[0] === other ? r.body.result : undefined;
    });
    expect(plan.map((x: { provider: { id: string; registration_status: string } }) => [x.provider.id, x.provider.registration_status])).toEqual([
      [other, 'off'],
      [refused, 'failed'],
    ]);
  });
});
