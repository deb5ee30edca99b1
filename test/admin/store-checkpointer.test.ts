import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { SqliteCheckpointer } from '../../src/store/sqlite/sqlite-checkpointer.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/**
 * WAL checkpoints from a worker thread (docs/performance.md §8.2): the committing connection
 * stops checkpointing while the worker runs, and the database file still receives the commits.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
const dbs: Database.Database[] = [];
const checkpointers: SqliteCheckpointer[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const c of checkpointers.splice(0)) await c.stop();
  for (const s of stores.splice(0)) await s.close();
  for (const d of dbs.splice(0)) if (d.open) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function walDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'outdial-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'outdial.db');
  const db = new Database(path);
  dbs.push(db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { db, path };
}

const autocheckpoint = (db: Database.Database) => db.pragma('wal_autocheckpoint', { simple: true });

async function until(what: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('SqliteCheckpointer', () => {
  it('takes checkpoints over from the committing connection, and the file receives the commits', async () => {
    const { db, path } = walDatabase();
    const c = new SqliteCheckpointer(db, createCapturingLogger().logger, 50);
    checkpointers.push(c);
    expect(autocheckpoint(db)).toBe(1000);
    c.start();
    await until(() => c.running);
    expect(autocheckpoint(db)).toBe(0);
    const before = statSync(path).size;
    // 2 MiB in 512 commits: pages the committing connection no longer copies back itself
    const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
    for (let i = 0; i < 512; i++) insert.run(Buffer.alloc(4096, i % 256));
    await until(() => statSync(path).size >= before + 2 * 1024 * 1024);
    const other = new Database(path, { readonly: true });
    try {
      expect(other.prepare('SELECT count(*) AS n FROM blobs').get()).toEqual({ n: 512 });
    } finally {
      other.close();
    }
  });

  it('gives checkpoints back to the connection when stopped, and a second stop is harmless', async () => {
    const { db } = walDatabase();
    const c = new SqliteCheckpointer(db, createCapturingLogger().logger, 50);
    c.start();
    await until(() => c.running);
    await c.stop();
    expect(c.running).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    await c.stop();
  });

  it('does nothing for an in-memory database', async () => {
    const db = new Database(':memory:');
    dbs.push(db);
    const c = new SqliteCheckpointer(db, createCapturingLogger().logger, 50);
    c.start();
    await sleep(100);
    expect(c.running).toBe(false);
    await c.stop();
  });

  it('runs while a store watches for outside commits, and stops with the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outdial-ckpt-'));
    dirs.push(dir);
    const store = openSqliteStore({ path: join(dir, 'outdial.db'), logger: createCapturingLogger().logger });
    stores.push(store);
    expect(store.checkpointer.running).toBe(false);
    store.watchExternalChanges(1000);
    await until(() => store.checkpointer.running);
    expect(autocheckpoint(store.db)).toBe(0);
    await store.close();
    expect(store.checkpointer.running).toBe(false);
  });
});
