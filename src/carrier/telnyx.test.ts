import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getCountries } from 'libphonenumber-js';
import { createCapturingLogger } from '../log/logger.ts';
import { startFakeTelnyx, type FakeTelnyx, type FakeTelnyxStep } from '../../test/support/fake-telnyx.ts';
import { CarrierError, type CarrierErrorKind, type CarrierSetupInput } from './carrier.ts';
import { createTelnyxAdapter, MAX_PROFILE_ATTEMPTS, refusedDestinations, type TelnyxApiError } from './telnyx.ts';

const KEY = 'KEY_0190aa55_SECRET_do_not_log_7f3c';

let fake: FakeTelnyx;

beforeEach(async () => {
  fake = await startFakeTelnyx({ validKey: KEY });
});

afterEach(async () => {
  await fake.close();
});

function input(overrides: Partial<CarrierSetupInput> = {}): CarrierSetupInput {
  return { name: 'My Telnyx Trunk', detail: 'Primary outbound Telnyx SIP trunk', apiKey: KEY, publicSipAddress: { host: 'sip.example.net', port: 5080 }, ...overrides };
}

function adapter(extra: { timeoutMs?: number; rollbackTimeoutMs?: number; whitelistedDestinations?: string[] } = {}) {
  return createTelnyxAdapter({ apiUrl: fake.url, timeoutMs: 2000, ...extra });
}

async function setupError(promise: Promise<unknown>): Promise<CarrierError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CarrierError);
  return err as CarrierError;
}

const calls = () => fake.requests.map((r) => `${r.method} ${r.path.replace(/\d{6,}/, ':id')}`);

function expectNothingLeft(): void {
  expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
}

describe('createTelnyxAdapter setup', () => {
  it('creates profile, connection and fqdn with the documented bodies and returns their ids', async () => {
    const { logger } = createCapturingLogger();
    // A trailing slash on the base URL must not produce `//whoami`.
    const result = await createTelnyxAdapter({ apiUrl: `${fake.url}/`, timeoutMs: 2000 }).setup(input(), logger);

    expect(calls()).toEqual(['GET /whoami', 'POST /outbound_voice_profiles', 'POST /fqdn_connections', 'POST /fqdns']);
    for (const r of fake.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);

    const [, profileReq, connectionReq, fqdnReq] = fake.requests;
    expect(profileReq!.headers['content-type']).toBe('application/json');
    expect(profileReq!.body).toEqual({
      name: 'My Telnyx Trunk',
      traffic_type: 'conversational',
      service_plan: 'global',
      whitelisted_destinations: getCountries(),
    });

    const { profiles, connections, fqdns } = fake.objects();
    expect(profiles).toHaveLength(1);
    expect(connections).toHaveLength(1);
    expect(fqdns).toHaveLength(1);

    const connBody = connectionReq!.body as Record<string, unknown>;
    expect(connBody).toEqual({
      connection_name: 'My Telnyx Trunk',
      user_name: expect.stringMatching(/^[A-Za-z0-9]{8,}$/),
      password: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
      inbound: { ani_number_format: '+E.164', dnis_number_format: '+e164' },
      outbound: { outbound_voice_profile_id: profiles[0]!.id },
    });
    const password = connBody.password as string;
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/[0-9]/);

    expect(fqdnReq!.body).toEqual({ connection_id: connections[0]!.id, fqdn: 'sip.example.net', port: 5080, dns_record_type: 'a' });

    expect(result.hostname).toBe('sip.telnyx.com');
    // VoIPBIN's metadata keys.
    expect(result.metadata).toEqual({
      carrier: 'telnyx',
      telnyx_profile_id: profiles[0]!.id,
      telnyx_connection_id: connections[0]!.id,
      telnyx_fqdn_id: fqdns[0]!.id,
      telnyx_fqdn: 'sip.example.net:5080',
    });
  });

  it('deletes everything it created when asked to roll back a finished setup', async () => {
    const { logger } = createCapturingLogger();
    const result = await adapter().setup(input(), logger);
    fake.requests.length = 0;
    expect(await result.rollback(logger)).toEqual([]);
    expect(calls()).toEqual(['DELETE /fqdns/:id', 'DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']);
    expectNothingLeft();
  });

  it('reports what a finished setup could not delete again', async () => {
    const { logger } = createCapturingLogger();
    const result = await adapter().setup(input(), logger);
    const connectionId = fake.objects().connections[0]!.id;
    fake.failNext('deleteConnection', 500);
    const left = await result.rollback(logger);
    expect(left.map((l) => l.resource)).toEqual(['fqdn_connection', 'outbound_voice_profile']);
    expect(left[0]!.id).toBe(connectionId);
  });

  it('generates a different user name and password for every setup', async () => {
    const { logger } = createCapturingLogger();
    await adapter().setup(input({ name: 'one' }), logger);
    await adapter().setup(input({ name: 'two' }), logger);
    const bodies = fake.requests.filter((r) => r.path === '/fqdn_connections').map((r) => r.body as Record<string, string>);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]!.user_name).not.toBe(bodies[1]!.user_name);
    expect(bodies[0]!.password).not.toBe(bodies[1]!.password);
  });

  it('reports a rejected key as credentials_rejected and creates nothing', async () => {
    const { logger } = createCapturingLogger();
    const err = await setupError(adapter().setup(input({ apiKey: 'KEY_wrong_one' }), logger));
    expect(err.kind).toBe('credentials_rejected');
    expect(err.message).toContain('401');
    expect(err.message).toContain('Authentication failed');
    expect(calls()).toEqual(['GET /whoami']);
    expectNothingLeft();
  });

  it.each<[FakeTelnyxStep, number, CarrierErrorKind, string[]]>([
    ['whoami', 403, 'credentials_rejected', []],
    ['whoami', 500, 'unavailable', []],
    ['whoami', 429, 'unavailable', []],
    ['profile', 500, 'unavailable', []],
    ['profile', 400, 'request_failed', []],
    ['connection', 503, 'unavailable', ['DELETE /outbound_voice_profiles/:id']],
    ['connection', 422, 'request_failed', ['DELETE /outbound_voice_profiles/:id']],
    ['connection', 403, 'credentials_rejected', ['DELETE /outbound_voice_profiles/:id']],
    ['fqdn', 500, 'unavailable', ['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']],
    ['fqdn', 422, 'request_failed', ['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']],
  ])('%s answering HTTP %i → %s, rolled back in reverse order', async (step, status, kind, rollbackCalls) => {
    const { logger } = createCapturingLogger();
    fake.failNext(step, status);
    const err = await setupError(adapter().setup(input(), logger));
    expect(err.kind).toBe(kind);
    expect(err.message).toContain(`HTTP ${status}`);
    const creating = ['GET /whoami', 'POST /outbound_voice_profiles', 'POST /fqdn_connections', 'POST /fqdns'];
    const upTo = { whoami: 1, profile: 2, connection: 3, fqdn: 4 }[step as 'whoami' | 'profile' | 'connection' | 'fqdn'];
    expect(calls()).toEqual([...creating.slice(0, upTo), ...rollbackCalls]);
    expectNothingLeft();
  });

  it("carries Telnyx's error title and detail in a request_failed message", async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('fqdn', 422, 'The FQDN sip.example.net is already in use.');
    const err = await setupError(adapter().setup(input(), logger));
    expect(err.kind).toBe('request_failed');
    expect(err.message).toContain('Bad Request');
    expect(err.message).toContain('The FQDN sip.example.net is already in use.');
    expectNothingLeft();
  });

  it('drops the countries a 422 refuses and retries the profile', async () => {
    const { logger, lines } = createCapturingLogger();
    fake.refuseCountries(['AC', 'TA', 'XK']);
    const result = await adapter().setup(input(), logger);

    const profileReqs = fake.requests.filter((r) => r.path === '/outbound_voice_profiles');
    expect(profileReqs).toHaveLength(2);
    const second = (profileReqs[1]!.body as { whitelisted_destinations: string[] }).whitelisted_destinations;
    expect(second).toEqual(getCountries().filter((c) => !['AC', 'TA', 'XK'].includes(c)));
    expect(fake.objects().profiles[0]!.whitelisted_destinations).toEqual(second);
    expect(result.metadata.telnyx_profile_id).toBe(fake.objects().profiles[0]!.id);
    expect(lines.find((l) => l.msg === 'telnyx refused destinations')?.refused).toEqual(['AC', 'TA', 'XK']);
  });

  it('keeps dropping refused countries while each answer names new ones', async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('profile', 422, 'Destination AC cannot be whitelisted.');
    fake.refuseCountries(['TA']);
    await adapter({ whitelistedDestinations: ['US', 'AC', 'TA', 'GB'] }).setup(input(), logger);
    const bodies = fake.requests.filter((r) => r.path === '/outbound_voice_profiles').map((r) => (r.body as { whitelisted_destinations: string[] }).whitelisted_destinations);
    expect(bodies).toEqual([
      ['US', 'AC', 'TA', 'GB'],
      ['US', 'TA', 'GB'],
      ['US', 'GB'],
    ]);
    expect(fake.objects().profiles[0]!.whitelisted_destinations).toEqual(['US', 'GB']);
  });

  it('understands "... following countries: XX, YY", over as many rounds as Telnyx needs', async () => {
    const { logger, lines } = createCapturingLogger();
    const refused = ['CU', 'IR', 'KP', 'SY', 'AC'];
    fake.refuseCountries(refused, { wording: 'following-countries', perAnswer: 2 });
    const result = await adapter().setup(input(), logger);
    const bodies = fake.requests.filter((r) => r.path === '/outbound_voice_profiles').map((r) => (r.body as { whitelisted_destinations: string[] }).whitelisted_destinations);
    // Two countries named per answer: three refusals, then the fourth post is accepted.
    expect(bodies).toHaveLength(4);
    expect(bodies.at(-1)).toEqual(getCountries().filter((c) => !refused.includes(c)));
    expect(lines.filter((l) => l.msg === 'telnyx refused destinations').map((l) => l.refused)).toEqual([
      getCountries().filter((c) => refused.includes(c)).slice(0, 2),
      getCountries().filter((c) => refused.includes(c)).slice(2, 4),
      getCountries().filter((c) => refused.includes(c)).slice(4),
    ]);
    expect(result.metadata.telnyx_profile_id).toBe(fake.objects().profiles[0]!.id);
  });

  it('stops when an answer names no country it sent (nothing would change)', async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('profile', 422, 'Outbound calls cannot be enabled for the following countries: ZZ');
    const err = await setupError(adapter({ whitelistedDestinations: ['US', 'GB'] }).setup(input(), logger));
    expect(err.kind).toBe('request_failed');
    expect(err.message).toContain('following countries: ZZ');
    expect(fake.requests.filter((r) => r.path === '/outbound_voice_profiles')).toHaveLength(1);
    expectNothingLeft();
  });

  it(`gives up after ${MAX_PROFILE_ATTEMPTS} posts of the profile`, async () => {
    const { logger } = createCapturingLogger();
    const many = getCountries().slice(0, 40);
    fake.refuseCountries(many, { wording: 'following-countries', perAnswer: 1 });
    const err = await setupError(adapter({ whitelistedDestinations: [...many, 'US'] }).setup(input(), logger));
    expect(err.kind).toBe('request_failed');
    expect(fake.requests.filter((r) => r.path === '/outbound_voice_profiles')).toHaveLength(MAX_PROFILE_ATTEMPTS);
    expectNothingLeft();
  });

  it('does not retry a 422 about something other than destinations', async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('profile', 422, 'The name GB Trunk is already taken.');
    const err = await setupError(adapter().setup(input(), logger));
    expect(err.kind).toBe('request_failed');
    expect(fake.requests.filter((r) => r.path === '/outbound_voice_profiles')).toHaveLength(1);
  });

  it('turns a call that never answers into unavailable and still rolls back', async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('fqdn', 'hang');
    const err = await setupError(adapter({ timeoutMs: 300 }).setup(input(), logger));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('300 ms');
    expect(calls().slice(-2)).toEqual(['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']);
    expectNothingLeft();
  });

  it('turns a hanging whoami into unavailable', async () => {
    const { logger } = createCapturingLogger();
    fake.failNext('whoami', 'hang');
    const err = await setupError(adapter({ timeoutMs: 300 }).setup(input(), logger));
    expect(err.kind).toBe('unavailable');
    expect(calls()).toEqual(['GET /whoami']);
  });

  it('turns a refused TCP connection into unavailable', async () => {
    const { logger } = createCapturingLogger();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await setupError(createTelnyxAdapter({ apiUrl: `http://127.0.0.1:${port}/v2`, timeoutMs: 1000 }).setup(input(), logger));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('keeps rolling back when one delete fails, and logs each failure', async () => {
    const { logger, lines } = createCapturingLogger();
    fake.failNext('fqdn', 500);
    fake.failNext('deleteConnection', 500);
    const err = await setupError(adapter().setup(input(), logger));
    expect(err.kind).toBe('unavailable');
    expect(calls().slice(-2)).toEqual(['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']);
    // The connection survived, so Telnyx refuses to delete the profile it uses: both are reported.
    const failed = lines.filter((l) => l.msg === 'telnyx rollback failed').map((l) => [l.resource, l.status]);
    expect(failed).toEqual([
      ['fqdn_connection', 500],
      ['outbound_voice_profile', 422],
    ]);
    expect(fake.objects().connections).toHaveLength(1);
    expect(fake.objects().profiles).toHaveLength(1);
  });

  it('bounds the whole rollback when the deletes hang', async () => {
    const { logger, lines } = createCapturingLogger();
    fake.failNext('fqdn', 500);
    fake.failNext('deleteConnection', 'hang');
    fake.failNext('deleteProfile', 'hang');
    const err = await setupError(adapter({ timeoutMs: 300, rollbackTimeoutMs: 400 }).setup(input(), logger));
    expect(err.kind).toBe('unavailable');
    const unresolved = lines.filter((l) => l.msg === 'telnyx rollback failed' || l.msg === 'telnyx rollback skipped').map((l) => l.resource);
    expect(unresolved).toEqual(['fqdn_connection', 'outbound_voice_profile']);
  });

  it('never writes the API key or the connection password to a log line or an error', async () => {
    const { logger, text } = createCapturingLogger('trace');
    await adapter().setup(input({ name: 'ok' }), logger);
    // Telnyx echoing the key back in an error detail must not leak it either.
    fake.failNext('connection', 422, `Key ${KEY} may not create connections`);
    const err = await setupError(adapter().setup(input({ name: 'echo' }), logger));
    fake.failNext('fqdn', 'hang');
    const err2 = await setupError(adapter({ timeoutMs: 300 }).setup(input({ name: 'hang' }), logger));
    const err3 = await setupError(adapter().setup(input({ apiKey: `${KEY}x` }), logger));

    const passwords = fake.requests.filter((r) => r.path === '/fqdn_connections').map((r) => (r.body as { password: string }).password);
    expect(passwords.length).toBeGreaterThanOrEqual(3);
    const everything = [text(), err.message, err2.message, err3.message].join('\n');
    expect(text()).toContain('telnyx call failed');
    expect(everything).not.toContain(KEY);
    expect(err.message).toContain('[redacted]');
    for (const p of passwords) expect(everything).not.toContain(p);
  });
});

describe('refusedDestinations', () => {
  const asked = ['US', 'AC', 'TA', 'ID', 'GB'];
  it.each<[string, TelnyxApiError[], string[]]>([
    ['pointer index', [{ title: 'Invalid whitelisted destination', source: { pointer: '/whitelisted_destinations/1' } }], ['AC']],
    ['codes named in the detail', [{ title: 'Bad Request', detail: 'Destinations AC, TA cannot be whitelisted.' }], ['AC', 'TA']],
    ['one error per country', [{ detail: 'AC is not allowed', source: { pointer: '/whitelisted_destinations/1' } }, { detail: 'TA is not allowed', source: { pointer: '/whitelisted_destinations/2' } }], ['AC', 'TA']],
    ['codes never requested are ignored', [{ detail: 'Destination ZZ cannot be whitelisted.' }], []],
    ['errors about other fields are ignored', [{ title: 'Invalid ID', detail: 'ID GB is bad', source: { pointer: '/name' } }], []],
    ['no errors', [], []],
    ['"following countries:" list', [{ title: 'Unprocessable Entity', detail: 'Outbound calls cannot be enabled for the following countries: AC, TA and GB.' }], ['AC', 'TA', 'GB']],
    ['"following countries:" list, only codes asked for', [{ detail: 'the following countries: ZZ, ID' }], ['ID']],
  ])('%s', (_label, errors, expected) => {
    expect(refusedDestinations(errors, asked)).toEqual(expected);
  });
});
