import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { CARRIER_DEFAULTS, LIVE_SENTINEL, type ProviderRecord, type RegistrationStatus } from '../routing/model.ts';
import type { Lease } from '../cluster/lease.ts';
import type { RegisterAnswer, RegisterRequest } from '../call/srf-adapter.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { ProviderRegistrar } from './provider-registrar.ts';
import { grantedSeconds, nextRegistration, refreshDelayMs, retryDelayMs } from './registration.ts';

function provider(id: string, over: Partial<ProviderRecord> = {}): ProviderRecord {
  return {
    id,
    type: 'sip',
    hostname: `${id}.carrier.example:5080`,
    tech_prefix: '',
    tech_postfix: '',
    tech_headers: {},
    name: id,
    detail: '',
    codecs: '',
    metadata: {},
    health_status: 'unknown',
    health_checked_at: null,
    registration_status: 'registering',
    registration_checked_at: null,
    ...CARRIER_DEFAULTS,
    auth_username: `user-${id}`,
    auth_password_sealed: `sealed-${id}`,
    register: true,
    tm_create: '2026-01-01T00:00:00.000000Z',
    tm_update: '2026-01-01T00:00:00.000000Z',
    tm_delete: LIVE_SENTINEL,
    ...over,
  };
}

/** A lease the test hands out and takes back. */
class TestLease implements Lease {
  readonly name = 'registrations';
  private onChange: ((held: boolean) => void) | undefined;
  private held = false;
  isHeld(): boolean {
    return this.held;
  }
  start(onChange: (held: boolean) => void): void {
    this.onChange = onChange;
  }
  set(held: boolean): void {
    this.held = held;
    this.onChange?.(held);
  }
  async stop(): Promise<void> {
    if (this.held) this.set(false);
  }
}

interface Sent {
  req: RegisterRequest;
  answer(status: number, headers?: Record<string, string>): void;
  fail(err: Error): void;
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(initial: ProviderRecord[]) {
  const clock = new ManualClock();
  const lease = new TestLease();
  let providers = new Map(initial.map((p) => [p.id, p]));
  const sent: Sent[] = [];
  const statuses: Array<[string, RegistrationStatus]> = [];
  const registrar = new ProviderRegistrar({
    sender: {
      register: (req) =>
        new Promise<RegisterAnswer>((resolve, reject) => {
          sent.push({
            req,
            answer: (status, headers = {}) =>
              resolve({
                status,
                reason: '',
                authFailed: status === 401 || status === 407,
                sentContact: '<sip:user@127.0.0.1:5060>',
                get: (n) => headers[n],
                has: (n) => n in headers,
              }),
            fail: reject,
          });
        }),
    },
    lease,
    providers: () => providers,
    credentials: (p) => ({ username: p.auth_username, password: () => `password of ${p.auth_password_sealed}` }),
    setRegistration: (id, status) => statuses.push([id, status]),
    logger: createLogger('silent'),
    retryMs: 1000,
    retryMaxMs: 8000,
    clock,
    now: () => '2026-01-01T00:00:00.000000Z',
  });
  registrar.start();
  /** close(), answering the Expires: 0 REGISTERs it sends */
  const close = async () => {
    const before = sent.length;
    const closing = registrar.close();
    await flush();
    for (const s of sent.slice(before)) s.answer(200);
    await closing;
  };
  return {
    close,
    clock,
    lease,
    sent,
    statuses,
    registrar,
    setProviders(list: ProviderRecord[]) {
      providers = new Map(list.map((p) => [p.id, p]));
      registrar.sync();
    },
  };
}

const header = (s: Sent, name: string) => s.req.headers[name];

describe('ProviderRegistrar (RFC 3261 §10.2)', () => {
  it('registers while the lease is held, then refreshes before the granted lifetime ends, same Call-ID, higher CSeq', async () => {
    const t = setup([provider('a', { register_expires: 600 })]);
    expect(t.sent).toHaveLength(0); // no lease yet
    t.lease.set(true);
    expect(t.sent).toHaveLength(1);
    const first = t.sent[0]!;
    expect(first.req.uri).toBe('sip:a.carrier.example:5080');
    expect(first.req.headers).toMatchObject({ To: '<sip:user-a@a.carrier.example:5080>', Contact: '<sip:user-a@localhost>', Expires: '600', CSeq: '1 REGISTER' });
    expect(header(first, 'From')).toMatch(/^<sip:user-a@a\.carrier\.example:5080>;tag=\w+$/);
    expect(first.req.auth.username).toBe('user-a');
    expect(t.statuses).toEqual([['a', 'registering']]);

    first.answer(200, { Contact: '<sip:other@192.0.2.9>;expires=3000, <sip:user@127.0.0.1:5060>;expires=100' });
    await flush();
    expect(t.registrar.state('a')).toBe('registered');
    expect(t.statuses.at(-1)).toEqual(['a', 'registered']);
    // 100 s granted (our Contact's, not the other binding's): refreshed at 50 s
    t.clock.advance(49_999);
    expect(t.sent).toHaveLength(1);
    t.clock.advance(1);
    expect(t.sent).toHaveLength(2);
    const refresh = t.sent[1]!;
    expect(header(refresh, 'Call-ID')).toBe(header(first, 'Call-ID'));
    expect(header(refresh, 'CSeq')).toBe('3 REGISTER'); // above the CSeq srf's challenge answer used
    expect(header(refresh, 'From')).toBe(header(first, 'From'));
    refresh.answer(200, { Expires: '3600' });
    await flush();
    expect(t.registrar.state('a')).toBe('registered');
    // a refresh does not pass through "registering"
    expect(t.statuses.map(([, s]) => s)).toEqual(['registering', 'registered', 'registered']);
    expect(t.clock.nextInMs).toBe(3540_000);
    await t.close();
  });

  it('a refusal is "failed", retried with a doubling back-off up to the maximum; a success resets it', async () => {
    const t = setup([provider('a')]);
    t.lease.set(true);
    t.sent[0]!.answer(403);
    await flush();
    expect(t.registrar.state('a')).toBe('failed');
    expect(t.statuses.at(-1)).toEqual(['a', 'failed']);
    const delays: number[] = [];
    for (let i = 1; i <= 5; i++) {
      delays.push(t.clock.nextInMs!);
      t.clock.advance(t.clock.nextInMs!);
      expect(t.sent).toHaveLength(i + 1);
      t.sent[i]!.answer(i === 5 ? 200 : 401);
      await flush();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(t.registrar.state('a')).toBe('registered');
    expect(t.statuses.filter(([, s]) => s === 'registering')).toHaveLength(1);
    await t.close();
  });

  it('honours Retry-After, within the maximum, and counts a REGISTER that was not sent or not answered as a failure', async () => {
    const t = setup([provider('a')]);
    t.lease.set(true);
    t.sent[0]!.answer(503, { 'Retry-After': '5' });
    await flush();
    expect(t.clock.nextInMs).toBe(5000);
    t.clock.advance(5000);
    t.sent[1]!.fail(new Error('unable to send'));
    await flush();
    expect(t.registrar.state('a')).toBe('failed');
    t.clock.advance(t.clock.nextInMs!);
    expect(t.sent).toHaveLength(3);
    t.clock.advance(40_000); // no answer at all
    await flush();
    expect(t.registrar.state('a')).toBe('failed');
    await t.close();
  });

  it('a 423 is sent again at once with the Min-Expires (§10.2.8)', async () => {
    const t = setup([provider('a', { register_expires: 60 })]);
    t.lease.set(true);
    t.sent[0]!.answer(423, { 'Min-Expires': '1800' });
    await flush();
    expect(t.sent).toHaveLength(2);
    expect(header(t.sent[1]!, 'Expires')).toBe('1800');
    expect(t.statuses.map(([, s]) => s)).toEqual(['registering']);
    await t.close();
  });

  it('a deleted provider gets Expires: 0 for its binding, with its credentials', async () => {
    const t = setup([provider('a'), provider('b')]);
    t.lease.set(true);
    for (const s of t.sent) s.answer(200);
    await flush();
    t.setProviders([provider('b')]);
    const last = t.sent.at(-1)!;
    expect(header(last, 'Expires')).toBe('0');
    expect(header(last, 'Contact')).toBe('<sip:user-a@localhost>');
    expect(header(last, 'Call-ID')).toBe(header(t.sent[0]!, 'Call-ID'));
    expect(last.req.auth.password()).toBe('password of sealed-a');
    last.answer(200);
    await flush();
    expect(t.registrar.state('a')).toBe('off');
    expect(t.registrar.state('b')).toBe('registered');
    await t.close();
  });

  it('a changed provider is unregistered first, then registered with the new settings', async () => {
    const t = setup([provider('a')]);
    t.lease.set(true);
    t.sent[0]!.answer(200);
    await flush();
    t.setProviders([provider('a', { auth_password_sealed: 'sealed-new', hostname: 'new.example' })]);
    expect(t.sent).toHaveLength(2);
    const unregister = t.sent[1]!;
    expect(unregister.req.uri).toBe('sip:a.carrier.example:5080');
    expect(header(unregister, 'Expires')).toBe('0');
    expect(unregister.req.auth.password()).toBe('password of sealed-a');
    // nothing for the new settings until the old binding is gone
    await flush();
    expect(t.sent).toHaveLength(2);
    unregister.answer(200);
    await flush();
    await flush();
    expect(t.sent).toHaveLength(3);
    expect(t.sent[2]!.req.uri).toBe('sip:new.example');
    expect(header(t.sent[2]!, 'Expires')).toBe('3600');
    expect(header(t.sent[2]!, 'Call-ID')).not.toBe(header(t.sent[0]!, 'Call-ID'));
    expect(t.sent[2]!.req.auth.password()).toBe('password of sealed-new');
    await t.close();
  });

  it('unchanged rows (its own status writes) do not restart it; register: false stops it', async () => {
    const t = setup([provider('a')]);
    t.lease.set(true);
    t.sent[0]!.answer(200);
    await flush();
    t.setProviders([provider('a', { registration_status: 'registered', name: 'renamed', max_calls: 3 })]);
    expect(t.sent).toHaveLength(1);
    t.setProviders([provider('a', { register: false })]);
    expect(header(t.sent.at(-1)!, 'Expires')).toBe('0');
    t.sent.at(-1)!.answer(200);
    await flush();
    expect(t.registrar.state('a')).toBe('off');
    await t.close();
  });

  it('the transport goes on the registrar URI and the Contact', async () => {
    const t = setup([provider('a', { transport: 'tcp' })]);
    t.lease.set(true);
    expect(t.sent[0]!.req.uri).toBe('sip:a.carrier.example:5080;transport=tcp');
    expect(header(t.sent[0]!, 'Contact')).toBe('<sip:user-a@localhost;transport=tcp>');
    await t.close();
  });

  it('losing the lease stops it (Expires: 0); close() unregisters every binding', async () => {
    const t = setup([provider('a'), provider('b')]);
    t.lease.set(true);
    for (const s of t.sent) s.answer(200);
    await flush();
    t.lease.set(false);
    expect(t.sent.slice(2).map((s) => header(s, 'Expires'))).toEqual(['0', '0']);
    for (const s of t.sent.slice(2)) s.answer(200);
    await flush();
    t.lease.set(true);
    expect(t.sent).toHaveLength(6);
    for (const s of t.sent.slice(4)) s.answer(200);
    await flush();
    await t.close();
    expect(t.sent.slice(6).map((s) => header(s, 'Expires'))).toEqual(['0', '0']);
    expect(t.clock.armed).toBe(0);
  });

  it('close() does not wait past its bound for a registrar that never answers', async () => {
    const t = setup([provider('a')]);
    t.lease.set(true);
    t.sent[0]!.answer(200);
    await flush();
    const closing = t.registrar.close();
    await flush();
    expect(header(t.sent.at(-1)!, 'Expires')).toBe('0');
    t.clock.advance(2000);
    await closing;
  });

  it('never unregisters a provider that sent nothing yet, and sends nothing after close', async () => {
    const t = setup([provider('a')]);
    await t.close();
    expect(t.sent).toHaveLength(0);
    t.lease.set(true);
    expect(t.sent).toHaveLength(0);
  });
});

describe('registration rules', () => {
  it('the state machine refuses moves its table does not list', () => {
    expect(nextRegistration('off', 'start')).toBe('registering');
    expect(nextRegistration('registering', 'success')).toBe('registered');
    expect(nextRegistration('registered', 'failure')).toBe('failed');
    expect(nextRegistration('failed', 'success')).toBe('registered');
    expect(nextRegistration('failed', 'stop')).toBe('off');
    expect(() => nextRegistration('registered', 'start')).toThrow(/illegal transition registered -> registering/);
    expect(() => nextRegistration('off', 'success')).toThrow(/illegal transition/);
    expect(() => nextRegistration('off', 'stop')).toThrow(/illegal transition/);
  });

  it('refreshes half-way for short bindings, a minute early for long ones', () => {
    expect(refreshDelayMs(3600)).toBe(3540_000);
    expect(refreshDelayMs(120)).toBe(60_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(6)).toBe(3000);
    expect(refreshDelayMs(1)).toBe(1000);
  });

  it('backs off by doubling, capped, with Retry-After taken when longer', () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(n, 30_000, 1_800_000))).toEqual([30_000, 60_000, 120_000, 240_000, 1_800_000]);
    expect(retryDelayMs(1, 30_000, 1_800_000, 120)).toBe(120_000);
    expect(retryDelayMs(3, 30_000, 1_800_000, 5)).toBe(120_000);
    expect(retryDelayMs(1, 30_000, 60_000, 3600)).toBe(60_000);
  });

  it('reads the granted lifetime: our Contact\'s expires, else Expires, else what was asked', () => {
    const ours = '<sip:u@127.0.0.1:5060>';
    expect(grantedSeconds('<sip:u@10.0.0.1>;expires=900, <sip:u@127.0.0.1:5060;transport=udp>;expires=30', '3600', ours, 60)).toBe(30);
    expect(grantedSeconds('"A, B" <sip:u@127.0.0.1:5060>;q=0.5;expires=45', undefined, ours, 60)).toBe(45);
    expect(grantedSeconds('<sip:u@10.0.0.1>;expires=900, <sip:u@10.0.0.2>;expires=800', '120', ours, 60)).toBe(120);
    expect(grantedSeconds(undefined, undefined, ours, 60)).toBe(60);
    expect(grantedSeconds('<sip:u@127.0.0.1:5060>', ' 300 ', ours, 60)).toBe(300);
  });
});
