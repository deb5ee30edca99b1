import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestSipCarrier } from '../support/digest-sip-peer.ts';
import { startSipp } from '../support/sipp.ts';
import { describeRun, finalStatus, invitesReceived, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * Digest authentication toward carriers (docs/routing.md §4, RFC 3261 §22, RFC 7616), end to end:
 * sipp is the platform and the carriers, and checks outdial's Authorization with its verifyauth
 * action (MD5; sipp 3.6.1 verifies nothing else). SHA-256 is checked by a small peer that
 * computes the digest itself (test/support/digest-sip-peer.ts).
 */
const USER = 'trunk-7781';
const PASSWORD = 'pw: Open Sesame 42!';

const VERIFY_AUTH = `<verifyauth assign_to="authvalid" username="${USER}" password="${PASSWORD}"/>`;
const HAS_PROXY_AUTHORIZATION = '<ereg regexp="Proxy-Authorization: Digest " search_in="msg" assign_to="authvalid"/>';

/** RFC 2617 / 7616 MD5 with qop=auth, from the parameters a carrier received (checks a 407's answer, which sipp cannot). */
function md5DigestValid(value: string, method: string, password: string): boolean {
  const p = new Map([...value.matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1]!, m[2] ?? m[3] ?? '']));
  const H = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = H(`${p.get('username')}:${p.get('realm')}:${password}`);
  const ha2 = H(`${method}:${p.get('uri')}`);
  return p.get('response') === H(`${ha1}:${p.get('nonce')}:${p.get('nc')}:${p.get('cnonce')}:${p.get('qop')}:${ha2}`);
}

type CallRecord = { attempts: Array<{ provider_id: string; status: number; note?: string; challenged?: boolean; request_uri: string }>; outcome: string; status: number; reason?: string; provider_id?: string };

describe('digest authentication toward carriers', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  const records = () => h.t.logs.lines.filter((l) => l.msg === 'call ended') as unknown as CallRecord[];

  /** The stored record of the call whose first attempt went to `providerId` (GET /v1.0/calls, docs/api.md §13), once the sink has written it. */
  async function storedCall(providerId: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
    const until = Date.now() + 10_000;
    for (;;) {
      const r = await h.t.request('GET', '/v1.0/calls');
      expect(r.status, r.text).toBe(200);
      const found = (r.body.result as Array<{ attempts: Array<{ provider_id: string }> }>).find((c) => c.attempts[0]?.provider_id === providerId);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no stored call record through ${providerId}: ${r.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it.each([
    ['407', '407 Proxy Authentication Required', 'Proxy-Authenticate', 'Proxy-Authorization', HAS_PROXY_AUTHORIZATION],
    ['401', '401 Unauthorized', 'WWW-Authenticate', 'Authorization', VERIFY_AUTH],
  ])('answers a %s challenge once: same Call-ID, next CSeq, credentials checked by the carrier; the call completes', async (_code, status, challengeHeader, authHeader, verify) => {
    const carrier = await h.carrier('carrier-auth.xml', { status, header: challengeHeader, verify });
    const id = await h.provision(carrier, {}, { auth_username: USER, auth_password: PASSWORD });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    const carrierRun = await carrier.done;
    expect(carrierRun.code, describeRun('carrier', carrierRun)).toBe(0);
    expect(platform.code, describeRun('platform', platform)).toBe(0);

    const invites = invitesReceived(carrierRun);
    expect(invites).toHaveLength(2);
    const header = (block: string, name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(block)?.[1]?.trim();
    expect(header(invites[1]!, 'Call-ID')).toBe(header(invites[0]!, 'Call-ID'));
    const seq = (block: string) => Number(/^CSeq:\s*(\d+)\s+INVITE/im.exec(block)?.[1]);
    expect(seq(invites[1]!)).toBe(seq(invites[0]!) + 1);
    // the From tag is kept (the same dialog is being set up, RFC 3261 §22.2)
    expect(/;tag=([^;\s]+)/.exec(header(invites[1]!, 'From') ?? '')?.[1]).toBe(/;tag=([^;\s]+)/.exec(header(invites[0]!, 'From') ?? '')?.[1]);
    expect(header(invites[0]!, authHeader)).toBeUndefined();
    // a qop chosen from the list (not "auth,auth-int" copied), the carrier's opaque echoed
    const credentials = header(invites[1]!, authHeader)!;
    expect(credentials).toMatch(/^Digest username="trunk-7781", realm="carrier\.example", nonce="6a3f1c2e9b7d4a50", uri="sip:\+15551234567@127\.0\.0\.1:\d+", response="[0-9a-f]{32}", algorithm=MD5, qop=auth, nc=00000001, cnonce="[^"]+", opaque="op-42"$/);
    expect(md5DigestValid(credentials, 'INVITE', PASSWORD)).toBe(true);
    expect(md5DigestValid(credentials, 'INVITE', 'another password')).toBe(false);

    const record = records().at(-1)!;
    expect(record).toMatchObject({ outcome: 'connected', provider_id: id });
    expect(record.attempts).toEqual([expect.objectContaining({ provider_id: id, status: 200, challenged: true })]);
  });

  it("the README's trunk: carrier-digest.xml checks the credentials given to sipp as -key auth_user / auth_pass", async () => {
    for (const [password, expectConnected] of [[PASSWORD, true], ['not the password', false]] as const) {
      const carrier = await startSipp({ scenario: 'routing/carrier-digest.xml', transport: 'udp', timeoutSec: 15, keys: { auth_user: USER, auth_pass: PASSWORD } });
      try {
        await h.provision(carrier, {}, { auth_username: USER, auth_password: password });
        const platform = await h.platform(expectConnected ? 'platform-call.xml' : 'platform-call-fails.xml', '+15551234567');
        expect(platform.code, describeRun('platform', platform)).toBe(0);
        const run = await carrier.done;
        // sipp's own verdict: 0 when verifyauth accepted, 1 when it sent 403 and failed the call
        expect(run.code, describeRun('carrier', run)).toBe(expectConnected ? 0 : 1);
        if (!expectConnected) expect(finalStatus(platform)).toBe(403);
      } finally {
        await carrier.stop();
        await h.reset();
      }
    }
  });

  it('a carrier that challenges again after the credentials: the attempt fails over as "carrier authentication failed"', async () => {
    const refusing = await h.carrier('carrier-auth-refuses.xml');
    const next = await h.carrier('carrier-answer.xml');
    const a = await h.provision(refusing, { priority: 1 }, { auth_username: USER, auth_password: 'the wrong one' });
    const b = await h.provision(next, { priority: 2 });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const r1 = await refusing.done;
    expect(r1.code, describeRun('refusing carrier', r1)).toBe(0);
    expect(invitesReceived(r1)).toHaveLength(2);
    expect((await next.done).code).toBe(0);
    const record = records().at(-1)!;
    expect(record.attempts.map((x) => [x.provider_id, x.status, x.note])).toEqual([
      [a, 407, 'carrier authentication failed'],
      [b, 200, undefined],
    ]);
    expect(record.attempts[0]!.challenged).toBe(true);
    const metrics = await (await fetch(`${h.t.base}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`outdial_carrier_challenges_total\\{provider_id="${a}",outcome="refused"\\} 1`));
    // the stored record says the same
    const stored = await storedCall(a);
    expect(stored).toMatchObject({ outcome: 'connected', provider_id: b });
    expect(stored.attempts.map((x: { provider_id: string; status: number; reason: string }) => [x.provider_id, x.status, x.reason])).toEqual([
      [a, 407, 'carrier authentication failed'],
      [b, 200, ''],
    ]);
  });

  it('when every carrier refuses the credentials the platform gets 503, not a challenge it cannot answer', async () => {
    const refusing = await h.carrier('carrier-auth-refuses.xml');
    const id = await h.provision(refusing, {}, { auth_username: USER, auth_password: 'the wrong one' });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(503);
    expect(platform.messages).not.toMatch(/Proxy-Authenticate/i);
    expect(records().at(-1)).toMatchObject({ outcome: 'failed', status: 503, reason: 'carrier authentication failed' });
    const stored = await storedCall(id);
    expect(stored).toMatchObject({ outcome: 'failed', status: 503, reason: 'carrier authentication failed', provider_id: null });
    expect(stored.attempts).toEqual([expect.objectContaining({ provider_id: id, status: 407, reason: 'carrier authentication failed' })]);
  });

  it('without credentials a 407 goes to the platform as before', async () => {
    const carrier = await h.carrier('carrier-reject.xml', { status: '407 Proxy Authentication Required' });
    const other = await h.carrier('carrier-answer.xml');
    await h.provision(carrier, { priority: 1 });
    await h.provision(other, { priority: 2 });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(407);
    expect(invitesReceived(await other.stop())).toHaveLength(0);
  });

  it('a carrier that challenges our BYE gets the BYE again with credentials', async () => {
    const carrier = await h.carrier('carrier-challenges-bye.xml', { username: USER, password: PASSWORD });
    await h.provision(carrier, {}, { auth_username: USER, auth_password: PASSWORD });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const run = await carrier.done;
    expect(run.code, describeRun('carrier', run)).toBe(0);
    const byes = run.messages.split(/\n(?=-{10,})/).filter((b) => /received/i.test(b) && /^BYE /m.test(b));
    expect(byes).toHaveLength(2);
    expect(byes[0]).not.toMatch(/^Authorization:/im);
    expect(byes[1]).toMatch(/^Authorization: Digest username="trunk-7781", realm="carrier\.example", nonce="bye-nonce-77", uri="sip:carrier@127\.0\.0\.1:\d+;transport=UDP"/im);
    const cseq = (b: string) => Number(/^CSeq:\s*(\d+) BYE/im.exec(b)?.[1]);
    expect(cseq(byes[1]!)).toBeGreaterThan(cseq(byes[0]!));
  });

  it('answers an RFC 7616 SHA-256 challenge with qop=auth chosen from "auth-int, auth"', async () => {
    const carrier = await DigestSipCarrier.start({ username: USER, password: PASSWORD, algorithm: 'SHA-256', qop: 'auth-int, auth', status: 401 });
    try {
      const id = await h.provision(`127.0.0.1:${carrier.port}`, {}, { auth_username: USER, auth_password: PASSWORD });
      const platform = await h.platform('platform-call.xml', '+15551234567');
      expect(platform.code, describeRun('platform', platform)).toBe(0);
      expect(carrier.verdicts).toEqual([{ method: 'INVITE', valid: true, algorithm: 'SHA-256', qop: 'auth' }]);
      expect(records().at(-1)).toMatchObject({ outcome: 'connected', provider_id: id });
    } finally {
      await carrier.close();
    }
  });

  it('the password is in no response, log line (trace level), metric, or the database file in clear', async () => {
    const carrier = await h.carrier('carrier-auth.xml', { status: '401 Unauthorized', header: 'WWW-Authenticate', verify: VERIFY_AUTH });
    const id = await h.provision(carrier, {}, { auth_username: USER, auth_password: PASSWORD });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);

    const responses = [
      await h.t.request('GET', `/v1.0/providers/${id}`),
      await h.t.request('GET', '/v1.0/providers'),
      await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567'),
      await h.t.request('GET', '/v1.0/openapi.json', { token: null }),
    ];
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.text).not.toContain(PASSWORD);
      expect(r.text).not.toContain('sb1.'); // nor its sealed form
    }
    expect(responses[0]!.body).toMatchObject({ auth_username: USER, auth_password_set: true });
    expect(responses[0]!.body).not.toHaveProperty('auth_password');
    const metrics = await (await fetch(`${h.t.base}/metrics`)).text();
    expect(metrics).toContain('outdial_carrier_challenges_total');
    expect(metrics).not.toContain(PASSWORD);
    const logs = h.t.logs.text();
    expect(logs).toContain('"msg":"call ended"');
    expect(h.t.logs.lines.some((l) => l.level === 10 || l.level === 20)).toBe(true); // debug and trace lines were captured
    expect(logs).not.toContain(PASSWORD);
    for (const suffix of ['', '-wal', '-shm']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(h.t.dbPath + suffix);
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(PASSWORD)), `${suffix || 'db'} file`).toBe(false);
    }
  });
});
