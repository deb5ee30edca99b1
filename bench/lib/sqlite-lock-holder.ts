/**
 * Another process holding the SQLite write lock, as a maintenance script or a second instance's
 * long transaction would: run as its own node process (lib/sqlite-lock-holder.ts run by
 * holdSqliteWriteLock below). On "lock" on stdin it takes the write lock (BEGIN IMMEDIATE),
 * changes one route inside the transaction, holds it `holdMs`, then commits (so outdial also sees
 * an outside commit) and exits. It prints `locked <epoch ms>` and `released <epoch ms>`.
 *
 *   node --import tsx bench/lib/sqlite-lock-holder.ts <db file> <hold ms> <route id>
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnTracked, type TrackedChild } from './child-processes.ts';
import { REPO_ROOT } from './outdial-process.ts';

export interface LockWindow {
  /** epoch ms */
  lockedAt: number;
  releasedAt: number;
}

export interface SqliteLockHolder {
  readonly child: TrackedChild;
  /** takes the lock now; resolves when it has been released */
  lock(): Promise<LockWindow>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts the holder process and waits until it has opened the database. */
export async function startSqliteLockHolder(dbPath: string, holdMs: number, routeId: string): Promise<SqliteLockHolder> {
  const child = spawnTracked('sqlite-lock-holder', process.execPath, ['--import', 'tsx', SELF, dbPath, String(holdMs), routeId], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.process.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    wake();
  });
  void child.exited.then(wake);
  const waitFor = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lock holder: no ${re} within ${timeoutMs} ms:\n${child.outputTail()}`)), timeoutMs);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else if (child.hasExited()) {
          clearTimeout(timer);
          reject(new Error(`lock holder exited:\n${child.outputTail()}`));
        } else waiters.push(check);
      };
      check();
    });
  await waitFor(/^ready$/m, 30_000);
  return {
    child,
    async lock() {
      child.process.stdin?.write('lock\n');
      const locked = await waitFor(/^locked (\d+)$/m, 30_000);
      const released = await waitFor(/^released (\d+)$/m, holdMs + 30_000);
      return { lockedAt: Number(locked[1]), releasedAt: Number(released[1]) };
    },
    async stop() {
      await child.stop(2000);
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [file, hold, routeId] = process.argv.slice(2);
  if (!file || !hold || !routeId) {
    process.stderr.write('usage: sqlite-lock-holder.ts <db file> <hold ms> <route id>\n');
    process.exit(2);
  }
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  process.stdout.write('ready\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (!chunk.includes('lock')) return;
    db.exec('BEGIN IMMEDIATE');
    db.prepare('UPDATE routes SET priority = priority + 1 WHERE id = ?').run(routeId);
    process.stdout.write(`locked ${Date.now()}\n`);
    setTimeout(() => {
      db.exec('COMMIT');
      process.stdout.write(`released ${Date.now()}\n`);
      db.close();
      process.exit(0);
    }, Number(hold));
  });
}
