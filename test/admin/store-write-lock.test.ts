import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { ProviderInput } from '../../src/store/store.ts';

/**
 * A write that meets another connection's write lock waits for it on a timer, not in SQLite's
 * busy handler (docs/performance.md §8): the lock holder here is another connection in this very
 * thread, so it can only release the lock if the waiting write leaves the event loop free.
 */

const provider = (name: string): ProviderInput => ({ type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name, detail: '', codecs: '' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dirs: string[] = [];
const stores: SqliteStore[] = [];
const others: Database.Database[] = [];
function setup(busyTimeoutMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'outdial-lock-'));
  dirs.push(dir);
  const path = join(dir, 'outdial.db');
  const store = openSqliteStore({ path, logger: createCapturingLogger().logger, busyTimeoutMs });
  stores.push(store);
  const other = new Database(path);
  others.push(other);
  return { store, other };
}
afterEach(async () => {
  for (const o of others.splice(0)) if (o.open) o.close();
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Settles-or-not of a promise, without waiting for it. */
function track<T>(p: Promise<T>) {
  const s: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then((v) => Object.assign(s, { done: true, value: v }), (e: unknown) => Object.assign(s, { done: true, error: e }));
  return s;
}

describe('SQLite writes behind another connection\'s write lock', () => {
  it('wait with the event loop free, in arrival order, and commit once the lock is released', async () => {
    const { store, other } = setup(10_000);
    other.exec('BEGIN IMMEDIATE');
    const a = track(store.providers.create(provider('a')));
    const b = track(store.providers.create(provider('b')));
    // timers run while both wait: the loop is not held by SQLite's busy handler
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await sleep(150);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
    expect([a.done, b.done]).toEqual([false, false]);
    other.exec('COMMIT');
    await sleep(200);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect([a.value?.name, b.value?.name]).toEqual(['a', 'b']);
    // the order they came in: a is older
    expect(a.value!.tm_create < b.value!.tm_create).toBe(true);
    expect((await store.providers.list({ pageSize: 10, pageToken: '' })).items.map((p) => p.name).sort()).toEqual(['a', 'b']);
  });

  it('once the lock is released, the writes that waited run one per event-loop turn, in order', async () => {
    const { store, other } = setup(10_000);
    other.exec('BEGIN IMMEDIATE');
    const names = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    // the loop turns counted by a setImmediate that schedules itself; each write notes the count it completed at
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    const doneAt: number[] = [];
    const writes = names.map((n) => store.providers.create(provider(n)).then((p) => (doneAt.push(turns), p)));
    await sleep(50);
    setImmediate(count);
    other.exec('COMMIT');
    const made = await Promise.all(writes);
    counting = false;
    expect(made.map((p) => p.name)).toEqual(names);
    // no two queued writes completed within one turn of the loop
    for (let i = 1; i < doneAt.length; i++) expect(doneAt[i]!).toBeGreaterThan(doneAt[i - 1]!);
  });

  it('fail past the busy timeout as STORAGE_UNAVAILABLE, nothing written, and work again after', async () => {
    const { store, other } = setup(200);
    other.exec('BEGIN IMMEDIATE');
    const w = track(store.providers.create(provider('late')));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    for (let i = 0; i < 400 && !w.done; i++) await sleep(10);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
    expect(w.error).toBeInstanceOf(ApiError);
    expect((w.error as ApiError).reason).toBe('STORAGE_UNAVAILABLE');
    expect((w.error as Error).message).toMatch(/locked|busy/i);
    expect((await store.health()).writable).toBe(false);
    other.exec('ROLLBACK');
    expect((await store.providers.create(provider('after'))).name).toBe('after');
    expect((await store.providers.list({ pageSize: 10, pageToken: '' })).items.map((p) => p.name)).toEqual(['after']);
    expect(await store.health()).toEqual({ readable: true, writable: true });
  });

  it('the health probe waits on a timer too; a lock released in time reads as writable', async () => {
    const { store, other } = setup(10_000);
    other.exec('BEGIN IMMEDIATE');
    const h = track(store.health());
    await sleep(20);
    expect(h.done).toBe(false);
    other.exec('COMMIT');
    for (let i = 0; i < 100 && !h.done; i++) await sleep(10);
    expect(h.value).toEqual({ readable: true, writable: true });
  });

  it('a write that does not wait says busy at once and leaves the store healthy', async () => {
    const { store, other } = setup(10_000);
    expect((await store.health()).writable).toBe(true);
    other.exec('BEGIN IMMEDIATE');
    // the call record sink's kind of write
    const conn = (store as unknown as { conn: { writeWithoutWaiting<T>(fn: () => T): Promise<T | 'busy'> } }).conn;
    expect(await conn.writeWithoutWaiting(() => 1)).toBe('busy');
    other.exec('ROLLBACK');
    expect(await conn.writeWithoutWaiting(() => 2)).toBe(2);
  });
});
