/**
 * Cluster-wide limits on a real Redis 7 (test/support/redis-server.ts): limiters as two engines
 * would hold them (each with its own connection and instance id), a crashed instance (a process
 * killed with SIGKILL) whose slots expire, Redis stopped, restarted and hung mid-test.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Admission, CallSlot } from '../../src/cluster/call-limiter.ts';
import { createRedisClient } from '../../src/cluster/redis-client.ts';
import { RedisCallLimiter } from '../../src/cluster/redis-call-limiter.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { freePort } from '../support/free-port.ts';
import { startHolder, stopAllHolders } from '../support/cluster-holder-process.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';

const FELL_BACK = 'cluster limits fell back to per-instance';
const RESTORED = 'cluster limits restored';

let server: RedisServer;
let admin: Redis;
let prefixSeq = 0;
const closers: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  admin.on('error', () => {});
});
afterEach(async () => {
  await stopAllHolders();
  while (closers.length) await closers.pop()!();
  if (!server.isRunning()) await server.start();
  server.resume();
});
afterAll(async () => {
  admin?.disconnect();
  await server?.close();
});

interface Instance {
  limiter: RedisCallLimiter;
  redis: Redis;
  log: ReturnType<typeof createCapturingLogger>;
  messages(): unknown[];
}

/** An engine's limiter: its own connection, its own instance id, a prefix of this test's own. */
async function instance(prefix: string, id: string, opts: { slotTtlMs?: number; commandTimeoutMs?: number; url?: string; waitUp?: boolean } = {}): Promise<Instance> {
  const log = createCapturingLogger('debug');
  // Generous command timeout: the machine is shared and slow replies would read as outages here.
  const redis = createRedisClient(opts.url ?? server.url, { commandTimeoutMs: opts.commandTimeoutMs ?? 300, maxReconnectDelayMs: 100, logger: log.logger });
  const limiter = new RedisCallLimiter({ redis, logger: log.logger, keyPrefix: prefix, instanceId: id, slotTtlMs: opts.slotTtlMs ?? 3000, probeMs: 100 });
  closers.push(async () => {
    await limiter.close();
    redis.disconnect();
  });
  if (opts.waitUp !== false) await until(() => limiter.state === 'up', 10_000, `${id} up`);
  return { limiter, redis, log, messages: () => log.lines.map((l) => l.msg) };
}

function newPrefix(): string {
  return `t${process.pid}-${++prefixSeq}:`;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const slot = (a: Admission): CallSlot => {
  if (!a.admitted) throw new Error(`refused by ${a.limit}`);
  return a;
};

describe('RedisCallLimiter on a real Redis', () => {
  it('two instances share max_calls 1: the second is refused until the first releases', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    const limits = { maxCalls: 1, maxCps: 0 };
    const held = slot(await a.limiter.admit('provider:x', limits));
    expect(await b.limiter.admit('provider:x', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    expect(await a.limiter.admit('provider:x', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    // another key is not affected
    slot(await b.limiter.admit('provider:y', limits)).release();
    expect(await a.limiter.clusterHeld('provider:x')).toBe(1);
    expect(await b.limiter.clusterHeld('provider:x')).toBe(1);
    expect(b.limiter.held('provider:x')).toBe(0);
    held.release();
    await until(async () => (await b.limiter.clusterHeld('provider:x')) === 0, 2000, 'release seen');
    const taken = slot(await b.limiter.admit('provider:x', limits));
    expect(await a.limiter.tryAcquire('provider:x', 1)).toBeNull();
    taken.release();
    // Redis holds this instance's count, nothing else
    await until(async () => (await admin.hgetall(`${p}calls:provider:x`))['b'] === undefined, 2000, 'count cleared');
    expect(a.messages()).not.toContain(FELL_BACK);
    expect(b.messages()).not.toContain(FELL_BACK);
  });

  it('admits exactly max_calls of many concurrent requests from two instances', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).limiter.admit('calls', { maxCalls: 5, maxCps: 0 })));
    const admitted = results.filter((r) => r.admitted);
    expect(admitted).toHaveLength(5);
    expect(await a.limiter.clusterHeld('calls')).toBe(5);
    expect(a.limiter.held('calls') + b.limiter.held('calls')).toBe(5);
    for (const s of admitted) (s as CallSlot).release();
    await until(async () => (await a.limiter.clusterHeld('calls')) === 0, 2000, 'all released');
    expect(results.filter((r) => r.admitted).length).toBe(5);
  });

  it("a crashed instance's slot stops counting once its TTL has passed, not before", async () => {
    const p = newPrefix();
    const ttl = 1500;
    const holder = startHolder({ mode: 'slot', redisUrl: server.url, keyPrefix: p, key: 'provider:x', maxCalls: 1, slotTtlMs: ttl, instanceId: 'crashing' });
    expect((await holder.next(['admitted', 'refused'])).event).toBe('admitted');
    const b = await instance(p, 'b', { slotTtlMs: ttl });
    expect(await b.limiter.tryAcquire('provider:x', 1)).toBeNull();
    await holder.kill();
    const killedAt = Date.now();
    // the connection is gone but the slot is not: only the TTL frees it
    expect(await b.limiter.tryAcquire('provider:x', 1)).toBeNull();
    let freed: CallSlot | null = null;
    await until(async () => (freed = await b.limiter.tryAcquire('provider:x', 1)) !== null, 10_000, 'slot freed');
    const after = Date.now() - killedAt;
    // its last heartbeat (or admission) was at most `ttl` before the kill
    expect(after).toBeLessThanOrEqual(ttl + 1000);
    // the dead instance's field was removed on the way
    expect(await admin.hget(`${p}calls:provider:x`, 'crashing')).toBeNull();
    freed!.release();
  });

  it('Redis stopped mid-test: calls keep flowing on per-instance limits with one warning, then cluster limits come back', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    const limits = { maxCalls: 1, maxCps: 0 };
    const aSlot = slot(await a.limiter.admit('provider:x', limits));
    expect((await b.limiter.admit('provider:x', limits)).admitted).toBe(false);

    await server.stop();
    // per instance now: b holds nothing here, so it may take one; a already holds its one
    const started = Date.now();
    const bSlot = slot(await b.limiter.admit('provider:x', limits));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await b.limiter.admit('provider:x', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    expect(await a.limiter.admit('provider:x', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    // unlimited and other keys flow as before
    for (let i = 0; i < 50; i++) slot(await b.limiter.admit(`provider:${i}`, { maxCalls: 2, maxCps: 0 })).release();
    await until(() => a.limiter.state === 'down', 3000, 'a down');
    expect(b.limiter.state).toBe('down');
    for (const inst of [a, b]) {
      const warnings = inst.log.lines.filter((l) => l.msg === FELL_BACK);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.level).toBe(40);
      expect(warnings[0]!.redis).toBe(`127.0.0.1:${server.port}`);
    }
    // a slot taken during the outage is released during it: nothing reaches Redis, no error
    const bOther = slot(await b.limiter.admit('provider:z', limits));
    bOther.release();

    await server.start();
    await until(() => a.limiter.state === 'up' && b.limiter.state === 'up', 10_000, 'both up again');
    expect(a.messages().filter((m) => m === RESTORED)).toHaveLength(1);
    expect(b.messages().filter((m) => m === RESTORED)).toHaveLength(1);
    // the restarted Redis was empty; the heartbeats wrote both instances' counts back
    expect(await a.limiter.clusterHeld('provider:x')).toBe(2);
    expect(await admin.hget(`${p}calls:provider:z`, 'b')).toBeNull();
    // and the limit is cluster-wide again: over it until both have released
    expect((await a.limiter.admit('provider:x', { maxCalls: 2, maxCps: 0 })).admitted).toBe(false);
    bSlot.release();
    await until(async () => (await a.limiter.clusterHeld('provider:x')) === 1, 2000, 'b released');
    aSlot.release();
    // a release reaches Redis a moment later, over a's own connection
    await until(async () => (await b.limiter.clusterHeld('provider:x')) === 0, 2000, 'a released');
    const again = slot(await b.limiter.admit('provider:x', limits));
    expect((await a.limiter.admit('provider:x', limits)).admitted).toBe(false);
    again.release();
  });

  it('a hung Redis (SIGSTOP) costs one command timeout, then decisions are local until it answers again', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a', { commandTimeoutMs: 100 });
    server.pause();
    const started = Date.now();
    const first = await a.limiter.admit('provider:x', { maxCalls: 1, maxCps: 0 });
    const waited = Date.now() - started;
    expect(first.admitted).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(a.limiter.state).toBe('down');
    // no more waiting on Redis: the next ones are decided here, with nothing sent to Redis
    const sent = countCalls(a.redis, ['outdialAdmit', 'outdialSetCount']);
    for (let i = 0; i < 100; i++) slot(await a.limiter.admit(`k${i}`, { maxCalls: 1, maxCps: 0 })).release();
    expect(sent()).toBe(0);
    expect(await a.limiter.admit('provider:x', { maxCalls: 1, maxCps: 0 })).toEqual({ admitted: false, limit: 'max_calls' });
    expect(a.messages().filter((m) => m === FELL_BACK)).toHaveLength(1);
    server.resume();
    await until(() => a.limiter.state === 'up', 10_000, 'up after resume');
    expect(await a.limiter.clusterHeld('provider:x')).toBe(1);
    (first as CallSlot).release();
  });

  it('max_cps is shared: two instances together admit the capacity of one window, then more once it has passed', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    // 2 per second: at most 2 in any 1 s window, whoever asks
    for (let round = 1; ; round++) {
      const key = `provider:r${round}`;
      const started = Date.now();
      const verdicts: boolean[] = [];
      for (let i = 0; i < 8; i++) verdicts.push(await (i % 2 ? a : b).limiter.tryRate(key, 2));
      const elapsed = Date.now() - started;
      // on a machine too loaded to ask 8 times within the window, the count means nothing: ask again
      if (elapsed >= 900 && round < 3) continue;
      expect(elapsed).toBeLessThan(900);
      expect(verdicts.filter(Boolean)).toHaveLength(2);
      expect(verdicts.slice(0, 2)).toEqual([true, true]);
      expect(await a.limiter.admit(key, { maxCalls: 0, maxCps: 2 })).toEqual({ admitted: false, limit: 'max_cps' });
      await new Promise((r) => setTimeout(r, 1050 - (Date.now() - started)));
      expect(await a.limiter.tryRate(key, 2)).toBe(true);
      break;
    }
    // a fractional rate: 0.2 per second is one per 5 s
    expect(await a.limiter.tryRate('provider:slow', 0.2)).toBe(true);
    expect(await b.limiter.tryRate('provider:slow', 0.2)).toBe(false);
    expect(await a.limiter.tryRate('provider:slow', 0.2)).toBe(false);
  });

  it('an attempt refused by max_calls uses no cps room; one refused by max_cps holds no slot', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    const limits = { maxCalls: 1, maxCps: 0.5 }; // one per 2 s
    const s = slot(await a.limiter.admit('p', limits));
    expect(await b.limiter.admit('p', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    expect(await admin.zcard(`${p}cps:p`)).toBe(1);
    s.release();
    await until(async () => (await a.limiter.clusterHeld('p')) === 0, 2000, 'released');
    expect(await b.limiter.admit('p', limits)).toEqual({ admitted: false, limit: 'max_cps' });
    expect(await b.limiter.clusterHeld('p')).toBe(0);
    expect(b.limiter.held('p')).toBe(0);
  });

  it('a key without limits costs no round trip to Redis', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const before = await scriptCalls();
    for (let i = 0; i < 200; i++) slot(await a.limiter.admit('calls', { maxCalls: 0, maxCps: 0 })).release();
    const after = await scriptCalls();
    // the heartbeat may have run once or twice meanwhile; 200 admissions would show as 200
    expect(after - before).toBeLessThan(5);
    const withLimit = await scriptCalls();
    for (let i = 0; i < 20; i++) slot(await a.limiter.admit('calls', { maxCalls: 100, maxCps: 0 })).release();
    await new Promise((r) => setImmediate(r));
    await a.redis.ping(); // the last release has reached Redis
    // one script per admission, and the releases of each turn of the event loop reported together
    const used = (await scriptCalls()) - withLimit;
    expect(used).toBeGreaterThanOrEqual(21);
    expect(used).toBeLessThanOrEqual(40 + 2);
  });

  it('starts without a reachable Redis: one warning, and local decisions', async () => {
    const p = newPrefix();
    const port = await freePort();
    const a = await instance(p, 'a', { url: `redis://127.0.0.1:${port}`, waitUp: false });
    await until(() => a.limiter.state === 'down', 5000, 'down');
    const s = slot(await a.limiter.admit('provider:x', { maxCalls: 1, maxCps: 0 }));
    expect((await a.limiter.admit('provider:x', { maxCalls: 1, maxCps: 0 })).admitted).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(a.messages().filter((m) => m === FELL_BACK)).toHaveLength(1);
    s.release();
  });

  it('close() takes the instance out of the counts at once', async () => {
    const p = newPrefix();
    const a = await instance(p, 'a');
    const b = await instance(p, 'b');
    slot(await a.limiter.admit('provider:x', { maxCalls: 1, maxCps: 0 }));
    expect(await b.limiter.tryAcquire('provider:x', 1)).toBeNull();
    await a.limiter.close();
    expect(await b.limiter.tryAcquire('provider:x', 1)).not.toBeNull();
    expect(await admin.hexists(`${p}instances`, 'a')).toBe(0);
  });
});

/** Counts calls of the client's script commands from now on. */
function countCalls(redis: Redis, names: string[]): () => number {
  let n = 0;
  const target = redis as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const original = target[name]!.bind(redis);
    target[name] = (...args: unknown[]) => {
      n++;
      return original(...args);
    };
  }
  return () => n;
}

async function scriptCalls(): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) total += Number(m[1]);
  return total;
}
