/**
 * Leases on the real stores: one suite run against Redis 7 and PostgreSQL 15 (test/support).
 * The store contract (take, renew, owner checks, expiry on the store's clock), two instances
 * competing, a holder killed with SIGKILL (a separate process) and the takeover, a holder that
 * stops and hands over at once.
 */
import { once } from 'node:events';
import pg from 'pg';
import { testPool } from '../support/postgres-databases.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreLease, type LeaseStore } from '../../src/cluster/lease.ts';
import { LEASE_TABLE, PostgresLeaseStore } from '../../src/cluster/postgres-lease-store.ts';
import { createRedisClient } from '../../src/cluster/redis-client.ts';
import { RedisLeaseStore } from '../../src/cluster/redis-lease-store.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import type { HolderSpec } from '../support/cluster-holder.ts';
import { startHolder, stopAllHolders } from '../support/cluster-holder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';

let redisServer: RedisServer;
let pgServer: PostgresServer;
const closers: Array<() => Promise<void> | void> = [];
let seq = 0;

beforeAll(async () => {
  [redisServer, pgServer] = await Promise.all([startRedis(), startPostgres()]);
});
afterEach(async () => {
  await stopAllHolders();
  while (closers.length) await closers.pop()!();
});
afterAll(async () => {
  await Promise.all([redisServer?.close(), pgServer?.stop()]);
});

interface Backend {
  /** a store as one instance would have it (its own connection, up) */
  store(): Promise<LeaseStore>;
  /** the holder process's view of the same store */
  holderSpec(name: string, owner: string, ttlMs: number): HolderSpec;
}

const backends: Record<'redis' | 'postgres', () => Backend> = {
  redis: () => {
    const prefix = `lease-t${process.pid}-${++seq}:`;
    return {
      async store() {
        const redis = createRedisClient(redisServer.url, { commandTimeoutMs: 500 });
        closers.push(() => redis.disconnect());
        if (redis.status !== 'ready') await once(redis, 'ready');
        return new RedisLeaseStore(redis, prefix);
      },
      holderSpec: (name, owner, ttlMs) => ({ mode: 'lease', store: 'redis', url: redisServer.url, keyPrefix: prefix, name, owner, ttlMs }),
    };
  },
  postgres: () => ({
    async store() {
      const pool = testPool({ connectionString: pgServer.url, max: 2 });
      closers.push(() => pool.end());
      return new PostgresLeaseStore(pool);
    },
    holderSpec: (name, owner, ttlMs) => ({ mode: 'lease', store: 'postgres', url: pgServer.url, name, owner, ttlMs }),
  }),
};

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function campaign(store: LeaseStore, name: string, owner: string, ttlMs: number) {
  const log = createCapturingLogger('debug');
  const changes: boolean[] = [];
  const lease = new StoreLease({ store, name, owner, ttlMs, logger: log.logger, callTimeoutMs: 1000 });
  closers.push(() => lease.stop());
  lease.start((held) => changes.push(held));
  return { lease, changes, log };
}

describe.each(['redis', 'postgres'] as const)('lease on %s', (kind) => {
  it('the store: takes a free lease, renews it for its owner only, releases for its owner only, expires on its own clock', async () => {
    const b = backends[kind]();
    const s1 = await b.store();
    const s2 = await b.store();
    const name = `contract-${++seq}`;
    expect(await s1.claim(name, 'a', 5000)).toEqual({ held: true });
    const other = await s2.claim(name, 'b', 5000);
    expect(other.held).toBe(false);
    if (!other.held) {
      expect(other.retryInMs).toBeGreaterThan(0);
      expect(other.retryInMs).toBeLessThanOrEqual(5000);
    }
    expect(await s1.claim(name, 'a', 5000)).toEqual({ held: true });
    await s2.release(name, 'b'); // not b's: nothing happens
    expect((await s2.claim(name, 'b', 5000)).held).toBe(false);
    await s1.release(name, 'a');
    expect(await s2.claim(name, 'b', 300)).toEqual({ held: true });
    // b's short lease runs out without renewal: a may take it then, not before
    expect((await s1.claim(name, 'a', 5000)).held).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await s1.claim(name, 'a', 5000)).toEqual({ held: true });
  });

  it('of many contenders at once exactly one holds', async () => {
    const b = backends[kind]();
    const name = `race-${++seq}`;
    const stores = await Promise.all(Array.from({ length: 6 }, () => b.store()));
    const claims = await Promise.all(stores.map((s, i) => s.claim(name, `i${i}`, 5000)));
    expect(claims.filter((c) => c.held)).toHaveLength(1);
  });

  it('two instances compete: one runs the job; its holder is killed and the other takes over within the lease time', async () => {
    const b = backends[kind]();
    const name = `probes-${++seq}`;
    const ttl = 1500;
    const holder = startHolder(b.holderSpec(name, 'doomed', ttl));
    await holder.next(['held']);
    const other = campaign(await b.store(), name, 'survivor', ttl);
    // the holder renews: the other stays out for several lease times
    await new Promise((r) => setTimeout(r, ttl * 2));
    expect(other.lease.isHeld()).toBe(false);
    expect(other.changes).toEqual([]);
    await holder.kill();
    const killedAt = Date.now();
    await until(() => other.lease.isHeld(), 10_000, 'takeover');
    const took = Date.now() - killedAt;
    // the holder's last renewal was less than a lease time before the kill
    expect(took).toBeLessThanOrEqual(ttl + 500);
    expect(other.changes).toEqual([true]);
    expect(other.log.lines.some((l) => l.msg === 'lease acquired')).toBe(true);
  });

  it('a holder that stops hands over without waiting for the lease to expire', async () => {
    const b = backends[kind]();
    const name = `register-${++seq}`;
    const ttl = 4000;
    const first = campaign(await b.store(), name, 'first', ttl);
    await until(() => first.lease.isHeld(), 5000, 'first holds');
    const second = campaign(await b.store(), name, 'second', ttl);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.lease.isHeld()).toBe(false);
    await first.lease.stop();
    expect(first.changes).toEqual([true, false]);
    const stoppedAt = Date.now();
    await until(() => second.lease.isHeld(), ttl, 'handover');
    // within the retry interval (a third of the lease time), well before the lease would have run out
    expect(Date.now() - stoppedAt).toBeLessThan(ttl * 0.75);
    expect(second.changes).toEqual([true]);
  });
});

describe('Redis lease store', () => {
  it('a lease started on a connection still being made takes the lease without reporting an outage', async () => {
    const redis = createRedisClient(redisServer.url, { commandTimeoutMs: 500 });
    closers.push(() => redis.disconnect());
    expect(redis.status).not.toBe('ready');
    const c = campaign(new RedisLeaseStore(redis, `fresh-${++seq}:`), 'probes', 'fresh', 3000);
    await until(() => c.lease.isHeld(), 5000, 'held');
    expect(c.log.lines.map((l) => l.msg)).not.toContain('lease store unreachable');
  });

  it('while Redis is down nobody holds the lease; once it is back one instance does', async () => {
    const prefix = `outage-${++seq}:`;
    const stores = await Promise.all([0, 1].map(async () => {
      const redis = createRedisClient(redisServer.url, { commandTimeoutMs: 500, maxReconnectDelayMs: 100 });
      closers.push(() => redis.disconnect());
      if (redis.status !== 'ready') await once(redis, 'ready');
      return new RedisLeaseStore(redis, prefix);
    }));
    const ttl = 1500;
    const a = campaign(stores[0]!, 'probes', 'a', ttl);
    await until(() => a.lease.isHeld(), 5000, 'a holds');
    const b = campaign(stores[1]!, 'probes', 'b', ttl);
    await redisServer.stop();
    try {
      await until(() => !a.lease.isHeld(), ttl + 1000, 'a lets go');
      expect(a.changes).toEqual([true, false]);
      expect(b.lease.isHeld()).toBe(false);
      // its renewals fail meanwhile: reported once, however many fail
      await until(() => a.log.lines.some((l) => l.msg === 'lease store unreachable'), 3000, 'outage logged');
      await new Promise((r) => setTimeout(r, ttl));
      expect(a.log.lines.filter((l) => l.msg === 'lease store unreachable')).toHaveLength(1);
      expect(b.lease.isHeld()).toBe(false);
    } finally {
      await redisServer.start();
    }
    await until(() => a.lease.isHeld() || b.lease.isHeld(), 10_000, 'one holds again');
    await new Promise((r) => setTimeout(r, 500));
    expect([a.lease.isHeld(), b.lease.isHeld()].filter(Boolean)).toHaveLength(1);
    expect(a.log.lines.some((l) => l.msg === 'lease store reachable')).toBe(true);
  });
});

describe('PostgreSQL lease table', () => {
  it('is created once when instances start together on an empty database', async () => {
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    closers.push(() => admin.end());
    await admin.query('CREATE DATABASE lease_schema_race');
    const url = pgServer.urlFor('lease_schema_race');
    const pools = Array.from({ length: 4 }, () => testPool({ connectionString: url, max: 1 }));
    for (const p of pools) closers.push(() => p.end());
    const stores = pools.map((p) => new PostgresLeaseStore(p));
    const claims = await Promise.all(stores.map((s, i) => s.claim('x', `i${i}`, 5000)));
    expect(claims.filter((c) => c.held)).toHaveLength(1);
    const t = await pools[0]!.query<{ n: string }>(`SELECT count(*) AS n FROM ${LEASE_TABLE}`);
    expect(Number(t.rows[0]!.n)).toBe(1);
  });
});
