import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER, describeRun, finalStatus, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

interface Preview {
  route: { id: string; target: string };
  provider: { id: string };
  request_uri: string;
  headers: Record<string, string>;
  codecs: string[];
}

/**
 * `GET /v1.0/dialroutes` over real HTTP (docs/api.md, "Dial plan preview"): the attempts it
 * lists are the attempts a SIP call to the same number makes, in the same order.
 */
describe('GET /v1.0/dialroutes', () => {
  let h: RoutingHarness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const preview = async (query: string): Promise<Preview[]> => {
    const r = await h.t.request('GET', `/v1.0/dialroutes?${query}`);
    expect(r.status, r.text).toBe(200);
    return r.body.result as Preview[];
  };

  it('lists exactly the attempts a SIP call makes, in the same order', async () => {
    const a = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const b = await h.carrier('carrier-reject.xml', { status: '502 Bad Gateway' });
    const c = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const d = await h.carrier('carrier-reject.xml', { status: '500 Server Internal Error' });
    ids.a = await h.provision(
      a,
      { target: '+1555', priority: 2, customer_id: CUSTOMER },
      { tech_prefix: '0011', tech_postfix: '#', tech_headers: { 'X-Trunk-Id': 'trunk-7' }, codecs: 'PCMA,PCMU' },
    );
    ids.b = await h.provision(b, { target: '+1555', priority: 1, customer_id: CUSTOMER });
    ids.c = await h.provision(c, { target: 'all', customer_id: CUSTOMER });
    ids.d = await h.provision(d, { target: '+1' });
    // A default route to a provider the customer's routes already list: it is tried once only.
    const again = await h.t.request('POST', '/v1.0/routes', {
      body: { customer_id: '00000000-0000-0000-0000-000000000001', name: 'again', detail: '', provider_id: ids.a, priority: 1, target: '+1555' },
    });
    expect(again.status).toBe(200);

    const result = await preview(`target=%2B15551234567&customer_id=${CUSTOMER}`);
    expect(result.map((p) => p.provider.id)).toEqual([ids.b, ids.a, ids.c, ids.d]);
    expect(result[1]).toMatchObject({
      request_uri: `sip:0011+15551234567%23@127.0.0.1:${a.port}`,
      headers: { 'X-Trunk-Id': 'trunk-7' },
      codecs: ['PCMA', 'PCMU'],
      route: { target: '+1555' },
    });
    expect(result[0]).toMatchObject({ request_uri: `sip:+15551234567@127.0.0.1:${b.port}`, headers: {}, codecs: [] });

    const platform = await h.platform('platform-call-fails.xml', '+15551234567', { customer: CUSTOMER });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(500);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1) as {
      attempts: Array<{ provider_id: string; route_id: string; request_uri: string }>;
    };
    expect(record.attempts.map((x) => [x.route_id, x.provider_id, x.request_uri])).toEqual(
      result.map((p) => [p.route.id, p.provider.id, p.request_uri]),
    );
  });

  it('accepts a + sent unencoded (it arrives as a space)', async () => {
    const encoded = await preview(`target=%2B15551234567&customer_id=${CUSTOMER}`);
    const raw = await preview(`target=+15551234567&customer_id=${CUSTOMER}`);
    expect(raw).toEqual(encoded);
    expect(raw.length).toBeGreaterThan(0);
  });

  it('without customer_id lists only the default routes', async () => {
    const result = await preview('target=%2B15551234567');
    expect(result.map((p) => p.provider.id)).toEqual([ids.a, ids.d]);
  });

  it('reflects a route added through the API at once', async () => {
    const e = await h.provision('127.0.0.1:5099', { target: '+155', priority: 1 });
    const result = await preview('target=%2B15551234567');
    expect(result.map((p) => p.provider.id)).toEqual([ids.a, e, ids.d]);
  });

  it.each([
    ['a target that is not a number', 'target=abc', 400, 'INVALID_ARGUMENT'],
    ['a target without +', 'target=15551234567', 400, 'INVALID_ARGUMENT'],
    ['a target of 16 digits', 'target=%2B1234567890123456', 400, 'INVALID_ARGUMENT'],
    ['no target', `customer_id=${CUSTOMER}`, 400, 'INVALID_ARGUMENT'],
    ['a customer_id that is not a UUID', 'target=%2B15551234567&customer_id=acme', 400, 'INVALID_ID'],
  ])('answers %s with %i %s', async (_name, query, status, reason) => {
    const r = await h.t.request('GET', `/v1.0/dialroutes?${query}`);
    expect(r.status, r.text).toBe(status);
    expect(r.body.error.reason).toBe(reason);
  });

  it('requires a token', async () => {
    const r = await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567', { token: null });
    expect(r.status).toBe(401);
    expect(r.body.error.reason).toBe('AUTHENTICATION_REQUIRED');
  });
});
