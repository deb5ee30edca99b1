import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderScenario } from '../support/scenario-template.ts';
import { startSipp, type SippRun } from '../support/sipp.ts';
import { describeRun, invitesReceived, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * Provider test calls (`POST /v1.0/providercalls`, docs/api.md §14) through credential-based
 * trunks: the test call answers the carrier's challenge once with the provider's credentials and
 * follows its leading_plus and transport, exactly as a routed call does (docs/routing.md §3, §4).
 * sipp is the carrier and checks our Authorization with verifyauth (MD5; for a 407, which sipp
 * 3.6.1's verifyauth does not read, the test recomputes the digest from the carrier's trace).
 * A 3 s connect timeout: a loaded machine can keep a sipp carrier's 180 from arriving within 1 s.
 */
const USER = 'trunk-7781';
const PASSWORD = 'pw: Open Sesame 42!';
const VERIFY_AUTH = `<verifyauth assign_to="authvalid" username="${USER}" password="${PASSWORD}"/>`;
const HAS_PROXY_AUTHORIZATION = '<ereg regexp="Proxy-Authorization: Digest " search_in="msg" assign_to="authvalid"/>';

/** RFC 7616 §3.4.1 MD5 with qop=auth, from the parameters the carrier received. */
function md5DigestValid(value: string, method: string, password: string): boolean {
  const p = new Map([...value.matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1]!, m[2] ?? m[3] ?? '']));
  const H = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = H(`${p.get('username')}:${p.get('realm')}:${password}`);
  const ha2 = H(`${method}:${p.get('uri')}`);
  return p.get('response') === H(`${ha1}:${p.get('nonce')}:${p.get('nc')}:${p.get('cnonce')}:${p.get('qop')}:${ha2}`);
}

const header = (block: string, name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(block)?.[1]?.trim();
const cseq = (block: string) => Number(/^CSeq:\s*(\d+)\s+INVITE/im.exec(block)?.[1]);

let h: RoutingHarness;
const extra: SippRun[] = [];
beforeAll(async () => {
  h = await startRoutingHarness({ routing: { connectTimeoutMs: 3000 } });
});
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  for (const r of extra.splice(0)) await r.stop();
  await h.reset();
});

/** A provider pointing at the carrier, with no route to it: a test call does not need one. */
async function providerFor(carrier: SippRun, fields: Record<string, unknown>): Promise<string> {
  const r = await h.t.request('POST', '/v1.0/providers', { body: { type: 'sip', hostname: `127.0.0.1:${carrier.port}`, name: 'credential trunk', ...fields } });
  expect(r.status, r.text).toBe(200);
  return r.body.id as string;
}

/** POSTs a test call and polls it until it is no longer `calling` (as the console does). */
async function testCall(providerId: string, destination = '+15551234567', source = '+15550001111') {
  const r = await h.t.request('POST', '/v1.0/providercalls', { body: { provider_id: providerId, destination, source } });
  expect(r.status, r.text).toBe(200);
  const until = Date.now() + 15_000;
  for (;;) {
    const got = await h.t.request('GET', `/v1.0/providercalls/${r.body.id}`);
    expect(got.status, got.text).toBe(200);
    if (got.body.status !== 'calling') return { started: r, done: got };
    if (Date.now() > until) throw new Error(`test call still calling: ${got.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('provider test calls through credential-based trunks', () => {
  it.each([
    ['407', '407 Proxy Authentication Required', 'Proxy-Authenticate', 'Proxy-Authorization', HAS_PROXY_AUTHORIZATION],
    ['401', '401 Unauthorized', 'WWW-Authenticate', 'Authorization', VERIFY_AUTH],
  ])('a %s challenge is answered once with the credentials; leading_plus false in the Request-URI, To and From; the test call answers', async (_code, status, challengeHeader, authHeader, verify) => {
    const carrier = await h.carrier('carrier-auth.xml', { status, header: challengeHeader, verify });
    const id = await providerFor(carrier, { tech_prefix: '9', leading_plus: false, auth_username: USER, auth_password: PASSWORD });
    const { started, done } = await testCall(id);
    expect(started.body.request_uri).toBe(`sip:915551234567@127.0.0.1:${carrier.port}`);
    expect(done.body).toMatchObject({ status: 'answered', sip_status: 200 });

    const run = await carrier.done;
    expect(run.code, describeRun('carrier', run)).toBe(0); // sipp's own verdict: the credentials verified
    const invites = invitesReceived(run);
    expect(invites).toHaveLength(2);
    expect(header(invites[1]!, 'Call-ID')).toBe(header(invites[0]!, 'Call-ID'));
    expect(cseq(invites[1]!)).toBe(cseq(invites[0]!) + 1);
    expect(header(invites[0]!, authHeader)).toBeUndefined();
    const credentials = header(invites[1]!, authHeader)!;
    expect(credentials).toMatch(/^Digest username="trunk-7781", realm="carrier\.example", nonce="6a3f1c2e9b7d4a50", uri="sip:915551234567@127\.0\.0\.1:\d+", .*qop=auth, nc=00000001/);
    expect(md5DigestValid(credentials, 'INVITE', PASSWORD)).toBe(true);
    expect(md5DigestValid(credentials, 'INVITE', 'another password')).toBe(false);
    for (const invite of invites) {
      expect(invite).toMatch(new RegExp(`^INVITE sip:915551234567@127\\.0\\.0\\.1:${carrier.port} SIP/2\\.0`, 'm'));
      expect(header(invite, 'To')).toBe(`<sip:915551234567@127.0.0.1:${carrier.port}>`);
      expect(header(invite, 'From')).toMatch(/sip:15550001111@/);
      expect(invite).not.toMatch(/\+1555/);
    }
    expect(run.messages).toMatch(/^BYE /m);
    // neither the answer nor the stored test call carries the password
    for (const text of [started.text, done.text, (await h.t.request('GET', `/v1.0/providercalls?provider_id=${id}`)).text]) {
      expect(text).not.toContain(PASSWORD);
    }
    expect(h.t.logs.text()).not.toContain(PASSWORD);
  });

  it('transport tcp: the challenged test call goes over TCP with ;transport=tcp and answers', async () => {
    const file = renderScenario('routing/carrier-auth.xml', { status: '401 Unauthorized', header: 'WWW-Authenticate', verify: VERIFY_AUTH });
    const carrier = await startSipp({ scenario: file, transport: 'tcp', timeoutSec: 15 });
    extra.push(carrier);
    const id = await providerFor(carrier, { transport: 'tcp', auth_username: USER, auth_password: PASSWORD });
    const { started, done } = await testCall(id);
    expect(started.body.request_uri).toBe(`sip:+15551234567@127.0.0.1:${carrier.port};transport=tcp`);
    expect(done.body).toMatchObject({ status: 'answered', sip_status: 200 });
    const run = await carrier.done;
    expect(run.code, describeRun('carrier', run)).toBe(0);
    const invites = invitesReceived(run);
    expect(invites).toHaveLength(2);
    for (const invite of invites) {
      expect(invite).toMatch(/TCP message received/);
      expect(invite).toMatch(/^Via: SIP\/2\.0\/TCP /m);
      expect(invite).toMatch(new RegExp(`^INVITE sip:\\+15551234567@127\\.0\\.0\\.1:${carrier.port};transport=tcp SIP/2\\.0`, 'm'));
      // leading_plus defaults to true: the number keeps its +
      expect(header(invite, 'To')).toBe(`<sip:+15551234567@127.0.0.1:${carrier.port}>`);
    }
    expect(header(invites[1]!, 'Authorization')).toMatch(/^Digest username="trunk-7781"/);
  });

  it('a carrier that challenges again after the credentials: failed, reason "carrier authentication failed", nothing sent a third time', async () => {
    const carrier = await h.carrier('carrier-auth-refuses.xml');
    const id = await providerFor(carrier, { auth_username: USER, auth_password: 'the wrong one' });
    const { done } = await testCall(id);
    expect(done.body).toMatchObject({
      status: 'failed',
      sip_status: 407,
      sip_reason: 'Proxy Authentication Required',
      reason: 'carrier authentication failed',
      tm_answer: null,
    });
    const run = await carrier.done;
    expect(run.code, describeRun('carrier', run)).toBe(0); // the second INVITE had Proxy-Authorization, no third came
    expect(invitesReceived(run)).toHaveLength(2);
  });

  it('without credentials a 407 is the carrier refusing the call, as before', async () => {
    const carrier = await h.carrier('carrier-reject.xml', { status: '407 Proxy Authentication Required' });
    const id = await providerFor(carrier, {});
    const { done } = await testCall(id);
    expect(done.body).toMatchObject({ status: 'failed', sip_status: 407, reason: 'the carrier refused the call: 407 Proxy Authentication Required' });
    expect(invitesReceived(await carrier.done)).toHaveLength(1);
  });
});
