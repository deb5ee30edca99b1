import { describe, expect, it } from 'vitest';
import { filterSdpOffer } from './codec-filter.ts';
import { buildDialPlanSnapshot, planAttempts } from './dial-plan.ts';
import { computeAttempts, finalAttempt, previewAttempts } from './dial-route-preview.ts';
import { createHeaderPolicy } from './header-policy.ts';
import { CUSTOMER_A, provider, route } from '../../test/support/routing-fixtures/records.ts';

const providers = [
  provider('carrier-1', {
    hostname: 'carrier.example.com:5080',
    tech_prefix: '0011',
    tech_postfix: '#',
    tech_headers: { 'X-Account': 'acme', 'X-Trunk': '7' },
    codecs: 'PCMA,PCMU',
  }),
  provider('carrier-2', { hostname: '[2001:db8::5]:5060', health_status: 'healthy' }),
  provider('carrier-3', { hostname: '192.0.2.3', health_status: 'unhealthy', codecs: 'G729' }),
];
const routes = [
  route('r-default-all', 'carrier-3', 'all'),
  route('r-cust-us', 'carrier-1', '+1', { customer_id: CUSTOMER_A }),
  route('r-default-us', 'carrier-2', '+1'),
];
const snapshot = buildDialPlanSnapshot(providers, routes);

describe('computeAttempts and previewAttempts', () => {
  it('gives route, provider, Request-URI, tech headers and codec list per attempt, in plan order', () => {
    const attempts = previewAttempts(snapshot, '+15551234567', CUSTOMER_A);
    expect(
      attempts.map((a) => ({ route: a.route.id, provider: a.provider.id, uri: a.requestUri, headers: a.headers, codecs: a.codecs })),
    ).toEqual([
      {
        route: 'r-cust-us',
        provider: 'carrier-1',
        uri: 'sip:0011+15551234567%23@carrier.example.com:5080',
        headers: [
          { name: 'X-Account', value: 'acme' },
          { name: 'X-Trunk', value: '7' },
        ],
        codecs: ['PCMA', 'PCMU'],
      },
      { route: 'r-default-us', provider: 'carrier-2', uri: 'sip:+15551234567@[2001:db8::5]:5060', headers: [], codecs: [] },
      { route: 'r-default-all', provider: 'carrier-3', uri: 'sip:+15551234567@192.0.2.3', headers: [], codecs: ['G729'] },
    ]);
  });

  it.each([
    ['+15551234567', CUSTOMER_A],
    ['+15551234567', '00000000-0000-0000-0000-000000000001'],
    ['+442071234567', CUSTOMER_A],
    ['+861012345678', 'cccccccc-0000-4000-8000-000000000003'],
  ])('follows planAttempts exactly for %s / %s', (number, customer) => {
    const planned = planAttempts(snapshot, number, customer).map((c) => [c.route.id, c.provider.id]);
    expect(computeAttempts(snapshot, number, customer).map((a) => [a.route.id, a.provider.id])).toEqual(planned);
  });

  it('empty when no route applies', () => {
    expect(computeAttempts(buildDialPlanSnapshot(providers, []), '+15551234567', CUSTOMER_A)).toEqual([]);
  });

  it('its codec list feeds the codec filter', () => {
    const [first] = computeAttempts(snapshot, '+15551234567', CUSTOMER_A);
    const offer = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n';
    const r = filterSdpOffer(offer, first?.codecs ?? []);
    expect(r.ok && r.sdp).toContain('m=audio 4000 RTP/AVP 8 0 101\r\n');
  });

  it('finalAttempt is what a call sends: tech headers, then the platform headers the policy passes', () => {
    const policy = createHeaderPolicy({ customerHeader: 'X-Customer-Id', passHeaders: ['X-Tenant', 'X-Account'] });
    const incoming: Record<string, string> = {
      'P-Asserted-Identity': '<sip:+15550001111@pbx>',
      'X-Tenant': 't-9',
      // the provider's own X-Account wins over the platform's (docs/routing.md §3)
      'X-Account': 'platform-value',
      'X-Customer-Id': CUSTOMER_A,
      From: '"Alice" <sip:+15550001111@pbx>;tag=1',
    };
    const [planned] = computeAttempts(snapshot, '+15551234567', CUSTOMER_A);
    const call = finalAttempt(planned!, { policy, headers: (name) => incoming[name] });
    expect(call.headers).toEqual([
      { name: 'X-Account', value: 'acme' },
      { name: 'X-Trunk', value: '7' },
      { name: 'P-Asserted-Identity', value: '<sip:+15550001111@pbx>' },
      { name: 'X-Tenant', value: 't-9' },
    ]);
    expect(call.fromUser).toBe('+15550001111');
    // The preview is the same function without a platform request: the tech headers only.
    const [preview] = previewAttempts(snapshot, '+15551234567', CUSTOMER_A);
    expect(preview).toEqual({ ...call, headers: call.headers.slice(0, 2), fromUser: null });
  });
});

describe('carrier settings in the final attempt (docs/routing.md §3)', () => {
  const policy = createHeaderPolicy({ customerHeader: 'X-Customer-Id', passHeaders: [] });
  const platformHeaders = [
    { name: 'From', value: '"Alice" <sip:+15550001111@pbx.example>;tag=1' },
    { name: 'P-Asserted-Identity', value: '<sip:+15550001111@pbx.example>, <tel:+15550001111>' },
  ];
  const plus = (over: Parameters<typeof provider>[1]) => {
    const p = provider('c', { hostname: 'h.example', tech_prefix: '9', ...over });
    return computeAttempts(buildDialPlanSnapshot([p], [route('r', 'c', 'all')]), '+15551234567', CUSTOMER_A)[0]!;
  };

  it('leading_plus false: Request-URI, To, From user and the platform\'s sip: P-Asserted-Identity without +; tel: left as it is', () => {
    const a = finalAttempt(plus({ leading_plus: false, transport: 'tcp', tech_headers: { 'X-Trunk': '+1' } }), { policy, headers: platformHeaders });
    expect(a.requestUri).toBe('sip:915551234567@h.example;transport=tcp');
    expect(a.toUri).toBe('sip:915551234567@h.example');
    expect(a.fromUser).toBe('15550001111');
    expect(a.headers).toEqual([
      { name: 'X-Trunk', value: '+1' }, // the provider's own headers go as given
      { name: 'P-Asserted-Identity', value: '<sip:15550001111@pbx.example>, <tel:+15550001111>' },
    ]);
  });

  it('leading_plus true (the default): everything as it came', () => {
    const a = finalAttempt(plus({}), { policy, headers: platformHeaders });
    expect([a.requestUri, a.toUri, a.fromUser]).toEqual(['sip:9+15551234567@h.example', 'sip:9+15551234567@h.example', '+15550001111']);
    expect(a.headers).toEqual([{ name: 'P-Asserted-Identity', value: '<sip:+15550001111@pbx.example>, <tel:+15550001111>' }]);
  });

  it('a caller that is not +E.164 is not touched', () => {
    const a = finalAttempt(plus({ leading_plus: false }), { policy, headers: [{ name: 'From', value: '<sip:alice@pbx.example>;tag=2' }] });
    expect(a.fromUser).toBe('alice');
  });
});
