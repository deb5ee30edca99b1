/**
 * The lease campaign (src/cluster/lease.ts) on a manual clock against an in-memory store that
 * keeps time by the same clock: who holds, when a holder lets go, when another takes over.
 * The real stores (Redis, PostgreSQL) are in lease-stores.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { AlwaysHeldLease, StoreLease, type LeaseClaim, type LeaseClock, type LeaseStore } from '../../src/cluster/lease.ts';

/** Timers fire only when advance() moves time past them; promises settle between timers. */
class ManualClock implements LeaseClock {
  private time = 0;
  private seq = 0;
  private pending: Array<{ id: number; at: number; fn: () => void }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ id, at: this.time + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = end;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A lease store in memory on the manual clock; it can be made unreachable or slow. */
class MemoryLeaseStore implements LeaseStore {
  readonly description = 'memory';
  readonly rows = new Map<string, { owner: string; expiresAt: number }>();
  unreachable = false;
  /** answers only after this long on the clock */
  delayMs = 0;
  calls = 0;
  constructor(private readonly clock: ManualClock) {}
  async claim(name: string, owner: string, ttlMs: number): Promise<LeaseClaim> {
    this.calls++;
    await this.wait();
    const now = this.clock.now();
    const row = this.rows.get(name);
    if (!row || row.owner === owner || row.expiresAt <= now) {
      this.rows.set(name, { owner, expiresAt: now + ttlMs });
      return { held: true };
    }
    return { held: false, retryInMs: row.expiresAt - now };
  }
  async release(name: string, owner: string): Promise<void> {
    await this.wait();
    if (this.rows.get(name)?.owner === owner) this.rows.delete(name);
  }
  private async wait(): Promise<void> {
    if (this.unreachable) throw new Error('store unreachable');
    if (this.delayMs > 0) await new Promise<void>((r) => this.clock.setTimeout(r, this.delayMs));
    if (this.unreachable) throw new Error('store unreachable');
  }
}

function lease(store: LeaseStore, clock: ManualClock, owner: string, extra: { ttlMs?: number; renewMs?: number } = {}) {
  const log = createCapturingLogger('debug');
  const changes: boolean[] = [];
  const l = new StoreLease({ store, clock, owner, name: 'probes', logger: log.logger, ttlMs: extra.ttlMs ?? 3000, renewMs: extra.renewMs ?? 1000 });
  return { lease: l, changes, log, start: () => l.start((held) => changes.push(held)) };
}

const messages = (log: { lines: Array<Record<string, unknown>> }) => log.lines.map((l) => l.msg);

describe('StoreLease', () => {
  it('one of two contenders holds; it renews and keeps the lease while alive', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = lease(store, clock, 'a');
    const b = lease(store, clock, 'b');
    a.start();
    b.start();
    await clock.advance(0);
    expect(a.lease.isHeld()).toBe(true);
    expect(b.lease.isHeld()).toBe(false);
    expect(a.changes).toEqual([true]);
    expect(b.changes).toEqual([]);
    await clock.advance(30_000);
    expect(a.lease.isHeld()).toBe(true);
    expect(b.lease.isHeld()).toBe(false);
    expect(a.changes).toEqual([true]);
    expect(store.rows.get('probes')?.owner).toBe('a');
    expect(messages(a.log)).toContain('lease acquired');
  });

  it('a crashed holder (no more renewals) is replaced within the lease time', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    // a runs on a clock of its own: once that clock stops, a does nothing more, as a dead process
    const aClock = new ManualClock();
    const a = lease(store, aClock, 'a');
    const b = lease(store, clock, 'b');
    a.start();
    await aClock.advance(0);
    expect(a.lease.isHeld()).toBe(true);
    b.start();
    await clock.advance(500);
    expect(b.lease.isHeld()).toBe(false);
    const crashedAt = clock.now();
    const expiresAt = store.rows.get('probes')!.expiresAt;
    await clock.advance(expiresAt - clock.now() - 1);
    expect(b.lease.isHeld()).toBe(false);
    await clock.advance(2);
    expect(b.lease.isHeld()).toBe(true);
    expect(b.changes).toEqual([true]);
    expect(clock.now() - crashedAt).toBeLessThanOrEqual(3000);
    // b asked once per retry interval (1 s) and right at the expiry, no more: a's one claim + b's 4
    expect(store.calls).toBe(5);
  });

  it('a holder cut off from the store stops its job before the store could give the lease to another', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = lease(store, clock, 'a');
    a.start();
    await clock.advance(0);
    const expiresAt = store.rows.get('probes')!.expiresAt;
    store.unreachable = true;
    // renewals fail from here on; the holder keeps its lease only while it is sure of it
    let lostAt: number | undefined;
    for (let t = 0; t < 5000 && lostAt === undefined; t += 50) {
      await clock.advance(50);
      if (!a.lease.isHeld()) lostAt = clock.now();
    }
    expect(lostAt).toBeDefined();
    expect(lostAt!).toBeLessThan(store.rows.get('probes')!.expiresAt);
    expect(store.rows.get('probes')!.expiresAt).toBeGreaterThanOrEqual(expiresAt);
    expect(a.changes).toEqual([true, false]);
    expect(messages(a.log)).toContain('lease lost');
    // one warning for the outage, not one per failed renewal
    expect(messages(a.log).filter((m) => m === 'lease store unreachable')).toHaveLength(1);
    // the store comes back: it takes the lease again and says so once
    store.unreachable = false;
    await clock.advance(2000);
    expect(a.lease.isHeld()).toBe(true);
    expect(a.changes).toEqual([true, false, true]);
    expect(messages(a.log)).toContain('lease store reachable');
  });

  it('a holder whose lease was taken (the store says another holds it) stops at once', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = lease(store, clock, 'a');
    a.start();
    await clock.advance(0);
    store.rows.set('probes', { owner: 'z', expiresAt: clock.now() + 10_000 });
    await clock.advance(1000);
    expect(a.lease.isHeld()).toBe(false);
    expect(a.changes).toEqual([true, false]);
    expect(a.log.lines.find((l) => l.msg === 'lease lost')?.reason).toBe('taken by another instance');
  });

  it('stop() ends the job, releases the lease, and the other takes it without waiting for expiry', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = lease(store, clock, 'a');
    const b = lease(store, clock, 'b');
    a.start();
    await clock.advance(0);
    b.start();
    await clock.advance(0);
    await a.lease.stop();
    expect(a.changes).toEqual([true, false]);
    expect(store.rows.has('probes')).toBe(false);
    // b comes back within its retry interval (1 s), long before a's lease would have ended (3 s)
    await clock.advance(1000);
    expect(b.lease.isHeld()).toBe(true);
    await a.lease.stop(); // twice is harmless
    expect(a.changes).toEqual([true, false]);
  });

  it('a claim answered after stop() is given back', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    store.delayMs = 200;
    const a = lease(store, clock, 'a');
    a.start();
    await clock.advance(100);
    await a.lease.stop();
    await clock.advance(500);
    expect(a.changes).toEqual([]);
    expect(store.rows.has('probes')).toBe(false);
  });

  it('a store call slower than the bound counts as failed', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    store.delayMs = 5000;
    const a = lease(store, clock, 'a');
    a.start();
    await clock.advance(1500);
    expect(a.lease.isHeld()).toBe(false);
    expect(messages(a.log)).toContain('lease store unreachable');
  });

  it('refuses a renewal interval that leaves no time to renew', () => {
    const clock = new ManualClock();
    expect(() => lease(new MemoryLeaseStore(clock), clock, 'a', { ttlMs: 1000, renewMs: 950 })).toThrow(RangeError);
  });

  it('start() twice is an illegal transition', async () => {
    const clock = new ManualClock();
    const a = lease(new MemoryLeaseStore(clock), clock, 'a');
    a.start();
    expect(() => a.start()).toThrow(/illegal transition/);
  });
});

describe('AlwaysHeldLease', () => {
  it('is held from start to stop', async () => {
    const l = new AlwaysHeldLease('register');
    const changes: boolean[] = [];
    expect(l.isHeld()).toBe(false);
    l.start((h) => changes.push(h));
    expect(l.isHeld()).toBe(true);
    await l.stop();
    await l.stop();
    expect(l.isHeld()).toBe(false);
    expect(changes).toEqual([true, false]);
  });
});
