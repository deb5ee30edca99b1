import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../console/src/api/capabilities.ts';
import { PAGE_REQUIREMENTS, pagesOffered } from '../../console/src/page-requirements.ts';
import { PERMISSION_FLAGS, hasFlag, permissionNames, withFlag } from '../../console/src/agents/permission-flags.ts';
import { CALL_FILTER_FIELDS, callFilterOf, filterValuesOf, utcTime } from '../../console/src/calls/call-filter.ts';
import { fieldOfError } from '../../console/src/api/field-errors.ts';
import type { Provider, Route } from '../../console/src/api/types.ts';
import { providerBodyOf, formValuesOf, PROVIDER_FIELDS, visibleFields, type ProviderFieldDef } from '../../console/src/providers/provider-form-fields.ts';
import { headersOfRows } from '../../console/src/providers/tech-header-rows.ts';
import { orderByDialPlan, priorityValue } from '../../console/src/routes/dial-plan-order.ts';
import { parseHash, href } from '../../console/src/router.ts';
import { buildDialPlanSnapshot } from '../../src/routing/dial-plan.ts';
import { computeAttempts } from '../../src/routing/dial-route-preview.ts';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord } from '../../src/routing/model.ts';
import { startTestEngine } from '../admin/support/admin-harness.ts';

/** The console's own logic, without a browser: what it sends, how it orders, where errors go. */

const envelope = (reason: string, message: string) => ({ status: 'INVALID_ARGUMENT', reason, message, request_id: 'req_1' });
const PROVIDER_FORM = ['name', 'detail', 'hostname', 'tech_prefix', 'tech_postfix', 'tech_headers', 'codecs'];
const ROUTE_FORM = ['customer_id', 'name', 'detail', 'provider_id', 'priority', 'target'];

describe('fieldOfError: the API says which field, or the error goes to the top', () => {
  it.each([
    ['INVALID_HOSTNAME', 400, 'hostname "x y" is not a DNS name', PROVIDER_FORM, 'hostname'],
    ['INVALID_CODECS', 400, 'codecs has an empty element', PROVIDER_FORM, 'codecs'],
    ['INVALID_TECH_HEADERS', 400, 'tech_headers must not set the reserved header Via', PROVIDER_FORM, 'tech_headers'],
    ['INVALID_ARGUMENT', 400, 'body.tech_prefix must match pattern "^[A-Z]*$"', PROVIDER_FORM, 'tech_prefix'],
    ['INVALID_ARGUMENT', 400, 'body.hostname is required', PROVIDER_FORM, 'hostname'],
    ['INVALID_ARGUMENT', 400, 'body.name must NOT have more than 255 characters', PROVIDER_FORM, 'name'],
    ['PROVIDER_NOT_FOUND', 400, 'no such provider', ROUTE_FORM, 'provider_id'],
    ['INVALID_ID', 400, 'body.provider_id must match pattern "^[0-9a-f]…$"', ROUTE_FORM, 'provider_id'],
    ['INVALID_ID', 400, 'querystring.customer_id must match pattern "…"', ['customer_id'], 'customer_id'],
    ['INVALID_ARGUMENT', 400, 'body.target must match pattern "^(all|\\+[0-9]{1,15})$"', ROUTE_FORM, 'target'],
    ['INVALID_ARGUMENT', 400, 'body.priority must be integer', ROUTE_FORM, 'priority'],
    ['INVALID_ARGUMENT', 400, 'target must be + and 1..15 digits', ['target', 'customer_id'], 'target'],
  ])('%s %i "%s" → %s', (reason, status, message, fields, expected) => {
    expect(fieldOfError(envelope(reason, message), status, fields)).toBe(expected);
  });

  it.each([
    ['PROVIDER_NOT_FOUND', 404, 'no such provider', PROVIDER_FORM], // the provider being edited is gone
    ['PROVIDER_NOT_FOUND', 404, 'no such provider', ROUTE_FORM],
    ['INVALID_ARGUMENT', 400, 'unknown field auth_username in the body', PROVIDER_FORM],
    ['INVALID_ARGUMENT', 400, 'body.customer_id must match', ROUTE_FORM.filter((f) => f !== 'customer_id')], // a field the form does not show
    ['INVALID_JSON_BODY', 400, 'the request body is not valid JSON', PROVIDER_FORM],
    ['INTERNAL', 500, 'internal error', PROVIDER_FORM],
    ['RATE_LIMIT_EXCEEDED', 429, 'too many requests; slow down', PROVIDER_FORM],
    ['INVALID_ARGUMENT', 400, 'the request is invalid', PROVIDER_FORM],
  ])('%s %i "%s" → the top of the form', (reason, status, message, fields) => {
    expect(fieldOfError(envelope(reason, message), status, fields)).toBeUndefined();
  });
});

const route = (over: Partial<RouteRecord>): RouteRecord => ({
  id: 'r',
  customer_id: DEFAULT_CUSTOMER_ID,
  name: '',
  detail: '',
  provider_id: 'p',
  priority: 1,
  target: 'all',
  tm_create: '2026-01-01T00:00:00.000000Z',
  tm_update: '2026-01-01T00:00:00.000000Z',
  tm_delete: LIVE_SENTINEL,
  ...over,
});

const providerRecord = (id: string): ProviderRecord => ({
  id,
  type: 'sip',
  hostname: `${id}.example.com`,
  tech_prefix: '',
  tech_postfix: '',
  tech_headers: {},
  name: id,
  detail: '',
  codecs: '',
  metadata: {},
  health_status: 'healthy',
  health_checked_at: null,
  tm_create: '2026-01-01T00:00:00.000000Z',
  tm_update: '2026-01-01T00:00:00.000000Z',
  tm_delete: LIVE_SENTINEL,
});

describe('orderByDialPlan: the routes page lists routes in the order calls try them', () => {
  it('matches the engine’s own attempt order for random route sets (each route its own provider)', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const number = '+15551234567';
    const targets = ['all', '+1', '+15', '+155', '+1555', '+15551234567'];
    for (let round = 0; round < 200; round++) {
      const count = 1 + random(12);
      const routes = Array.from({ length: count }, (_, i) =>
        route({
          id: `00000000-0000-4000-8000-${String(round * 100 + i).padStart(12, '0')}`,
          provider_id: `p${i}`,
          target: targets[random(targets.length)]!,
          priority: random(4) - 1,
          tm_create: `2026-01-01T00:00:0${random(3)}.00000${random(10)}Z`,
        }),
      );
      const snapshot = buildDialPlanSnapshot(routes.map((r) => providerRecord(r.provider_id)), routes);
      const engine = computeAttempts(snapshot, number, DEFAULT_CUSTOMER_ID).map((a) => a.route.id);
      const consoleOrder = orderByDialPlan(routes as Route[]).map((r) => r.id);
      expect(consoleOrder, `round ${round}`).toEqual(engine);
    }
  });

  it('puts a longer prefix first whatever its priority, and all last', () => {
    const ordered = orderByDialPlan([
      route({ id: 'a', target: 'all', priority: -5 }),
      route({ id: 'b', target: '+1', priority: 1 }),
      route({ id: 'c', target: '+1212', priority: 9 }),
      route({ id: 'd', target: '+1', priority: 0 }),
      route({ id: 'e', target: '+1', priority: 0, tm_create: '2025-12-31T23:59:59.999999Z' }),
    ] as Route[]);
    expect(ordered.map((r) => r.id)).toEqual(['c', 'e', 'd', 'b', 'a']);
  });

  it('priorityValue sends integers as numbers and anything else as typed (the API names it)', () => {
    expect(priorityValue(' 7 ')).toBe(7);
    expect(priorityValue('-3')).toBe(-3);
    expect(priorityValue('1.5')).toBe('1.5');
    expect(priorityValue('')).toBe('');
  });
});

describe('the provider form sends exactly the fields it shows', () => {
  const provider: Provider = {
    ...providerRecord('a'),
    tech_prefix: '0011',
    tech_postfix: '#',
    tech_headers: { 'X-Trunk-Id': 'trunk-42', 'X-B': '' },
    codecs: 'PCMA,PCMU',
  };

  it('an unchanged edit sends back what the API returned (the PUT replaces nothing by accident)', () => {
    const r = providerBodyOf(formValuesOf(provider, PROVIDER_FIELDS), PROVIDER_FIELDS);
    expect(r).toEqual({
      body: { type: 'sip', name: 'a', detail: '', hostname: 'a.example.com', tech_prefix: '0011', tech_postfix: '#', tech_headers: { 'X-Trunk-Id': 'trunk-42', 'X-B': '' }, codecs: 'PCMA,PCMU' },
    });
  });

  it('a new provider starts empty', () => {
    expect(providerBodyOf(formValuesOf(undefined, PROVIDER_FIELDS), PROVIDER_FIELDS)).toEqual({
      body: { type: 'sip', name: '', detail: '', hostname: '', tech_prefix: '', tech_postfix: '', tech_headers: {}, codecs: '' },
    });
  });

  it('a header name given twice is refused beside the headers (JSON would keep one silently)', () => {
    const values = { ...formValuesOf(provider, PROVIDER_FIELDS), tech_headers: [{ name: 'X-A', value: '1' }, { name: 'X-A', value: '2' }] };
    expect(providerBodyOf(values, PROVIDER_FIELDS)).toEqual({ errors: { tech_headers: 'the header X-A is given twice' } });
    expect(headersOfRows([{ name: ' ', value: '' }, { name: 'X-A', value: 'v' }])).toEqual({ headers: { 'X-A': 'v' } });
  });

  it('fields of a later API: a secret is sent only when typed, numbers as numbers, booleans as booleans', () => {
    const later: ProviderFieldDef[] = [
      { name: 'auth_password', label: 'Password', kind: 'secret', setFlag: 'auth_password_set', section: 'general' },
      { name: 'max_calls', label: 'Max calls', kind: 'number', section: 'general' },
      { name: 'register', label: 'Register', kind: 'boolean', section: 'general' },
      { name: 'transport', label: 'Transport', kind: 'choice', choices: ['udp', 'tcp', 'tls'], section: 'general' },
    ];
    const edited = { ...provider, auth_password_set: true, max_calls: 3, register: true, transport: 'tcp' };
    const values = formValuesOf(edited, later);
    expect(values).toEqual({ auth_password: '', max_calls: '3', register: true, transport: 'tcp' });
    expect(providerBodyOf(values, later)).toEqual({ body: { type: 'sip', max_calls: 3, register: true, transport: 'tcp' } });
    expect(providerBodyOf({ ...values, auth_password: 's3cret', max_calls: 'lots' }, later)).toEqual({
      body: { type: 'sip', auth_password: 's3cret', max_calls: 'lots', register: true, transport: 'tcp' },
    });
  });
});

describe('capabilities from the real OpenAPI document', () => {
  it('shows today’s pages and provider fields, and none the API lacks', async () => {
    const t = await startTestEngine();
    try {
      const doc = (await t.request('GET', '/v1.0/openapi.json', { token: null })).body;
      const caps = capabilitiesOf(doc);
      expect(caps.has('GET', '/v1.0/providers')).toBe(true);
      expect(caps.has('GET', '/v1.0/dialroutes')).toBe(true);
      expect(caps.has('get', '/v1.0/calls')).toBe(true);
      expect(caps.has('GET', '/v1.0/no-such-thing')).toBe(false);
      expect(pagesOffered(caps, PAGE_REQUIREMENTS).map((p) => p.section)).toEqual(['providers', 'routes', 'dialplan', 'providercalls', 'calls', 'agents', 'accesskeys']);
      // a server without call records: no Calls page (and nothing else lost)
      const { ['/v1.0/calls']: _calls, ...otherPaths } = doc.paths as Record<string, unknown>;
      expect(pagesOffered(capabilitiesOf({ ...doc, paths: otherPaths }), PAGE_REQUIREMENTS).map((p) => p.section)).toEqual(['providers', 'routes', 'dialplan', 'providercalls', 'agents', 'accesskeys']);
      const body = caps.bodyFields('POST', '/v1.0/providers')!;
      expect([...body].sort()).toEqual(['codecs', 'detail', 'hostname', 'name', 'tech_headers', 'tech_postfix', 'tech_prefix', 'type']);
      expect(visibleFields(body).map((f) => f.name).sort()).toEqual(PROVIDER_FIELDS.map((f) => f.name).sort());
      expect(visibleFields(caps.bodyFields('PUT', '/v1.0/providers/{id}')).length).toBe(PROVIDER_FIELDS.length);
      expect(caps.responseFields('GET', '/v1.0/providers/{id}')?.has('health_status')).toBe(true);
      expect(caps.responseFields('GET', '/v1.0/providers/{id}')?.has('registration_status')).toBe(false);
      // $ref'd schemas are followed
      const refDoc = { paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/X' } } } } } } }, components: { schemas: { X: { properties: { a: {} } } } } };
      expect([...capabilitiesOf(refDoc).bodyFields('POST', '/x')!]).toEqual(['a']);
    } finally {
      await t.close();
    }
  });
});

describe('hash routes', () => {
  it('round-trip a number with its + and a customer', () => {
    const link = href('/dialplan', { target: '+15551234567', customer: DEFAULT_CUSTOMER_ID, empty: '' });
    expect(link).toBe(`#/dialplan?target=%2B15551234567&customer=${DEFAULT_CUSTOMER_ID}`);
    const place = parseHash(link);
    expect(place.segments).toEqual(['dialplan']);
    expect(place.params.get('target')).toBe('+15551234567');
    expect(parseHash('#/providers/abc').segments).toEqual(['providers', 'abc']);
    expect(parseHash('').segments).toEqual([]);
  });
});

describe('agent permissions as named flags', () => {
  it.each([
    [0x0001, ['ProjectSuperAdmin']],
    [0x0021, ['ProjectSuperAdmin', 'CustomerAdmin']],
    [0x000f, ['ProjectAll']],
    [0x00f1, ['ProjectSuperAdmin', 'CustomerAll']],
    [0xffff, ['All']],
    [0x0100, ['0x0100']],
    [0x0000, ['none']],
  ])('%i → %j', (bits, names) => {
    expect(permissionNames(bits)).toEqual(names);
  });

  it('turns a flag on or off without touching other bits; composites follow their bits', () => {
    const flag = (name: string) => PERMISSION_FLAGS.find((f) => f.name === name)!;
    let p = withFlag(0x0100, flag('CustomerAdmin'), true);
    expect(p).toBe(0x0120);
    p = withFlag(p, flag('CustomerAll'), true);
    expect([p, hasFlag(p, flag('CustomerAgent')), hasFlag(p, flag('CustomerAll'))]).toEqual([0x01f0, true, true]);
    p = withFlag(p, flag('CustomerAgent'), false);
    expect([p, hasFlag(p, flag('CustomerAll')), hasFlag(p, flag('CustomerAdmin'))]).toEqual([0x01e0, false, true]);
    expect(withFlag(0x0001, flag('All'), false)).toBe(0);
  });
});

describe('call filters', () => {
  it('reads the time boxes as UTC and leaves empty filters out', () => {
    expect(utcTime('2026-04-23T10:00')).toBe('2026-04-23T10:00:00Z');
    expect(utcTime('2026-04-23T10:00:05')).toBe('2026-04-23T10:00:05Z');
    expect(utcTime('yesterday')).toBe('yesterday');
    const values = filterValuesOf(new URLSearchParams('destination=%2B1555&outcome=failed&since=2026-04-23T10:00'));
    expect(callFilterOf(values)).toEqual({ customer_id: undefined, destination: '+1555', outcome: 'failed', status: undefined, since: '2026-04-23T10:00:00Z', until: undefined });
  });

  it.each([
    ['INVALID_ARGUMENT', 400, 'querystring.destination must match pattern "^[+ ][0-9]{1,15}$"', 'destination'],
    ['INVALID_ID', 400, 'querystring.customer_id must match pattern "…"', 'customer_id'],
    ['INVALID_ARGUMENT', 400, 'since is not a valid time: 2026-02-30T00:00:00Z', 'since'],
    ['INVALID_ARGUMENT', 400, 'querystring.status must match pattern "^[1-6][0-9]{2}$"', 'status'],
  ])('%s "%s" → beside %s', (reason, status, message, field) => {
    expect(fieldOfError(envelope(reason, message), status, [...CALL_FILTER_FIELDS])).toBe(field);
  });

  it('puts agent, password and test-call errors beside their fields', () => {
    expect(fieldOfError(envelope('INVALID_PASSWORD', 'body.password must NOT have fewer than 12 characters'), 400, ['username', 'password'])).toBe('password');
    expect(fieldOfError(envelope('INVALID_OLD_PASSWORD', 'old_password is missing or does not match'), 400, ['old_password', 'password'])).toBe('old_password');
    expect(fieldOfError(envelope('AGENT_EXISTS', 'a live agent already has this username'), 409, ['username', 'password'])).toBe('username');
    expect(fieldOfError(envelope('LAST_PROJECT_SUPER_ADMIN', 'this is the last ProjectSuperAdmin'), 409, ['name', 'permission'])).toBe('permission');
    expect(fieldOfError(envelope('PROVIDER_NOT_FOUND', 'provider x does not exist or is deleted'), 400, ['provider_id', 'destination', 'source'])).toBe('provider_id');
    expect(fieldOfError(envelope('INVALID_ARGUMENT', 'body.source must match pattern "^\\+?[0-9]{1,32}$"'), 400, ['provider_id', 'destination', 'source'])).toBe('source');
    expect(fieldOfError(envelope('PROVIDER_CALL_LIMIT', '10 provider test calls are in progress'), 429, ['provider_id', 'destination', 'source'])).toBeUndefined();
  });
});
