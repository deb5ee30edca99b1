/**
 * WAL checkpoints in a worker thread (docs/performance.md §8.2).
 *
 * In WAL mode with `synchronous = NORMAL` a commit appends its pages to the -wal file and does not
 * sync; the syncs happen at checkpoints, which copy the WAL's pages back into the database file.
 * SQLite runs one automatically in the connection that commits once the WAL passes 1,000 pages,
 * inside that commit: on the event loop, with two fsyncs, tens of milliseconds on a slow disk
 * (and the first one after a bulk import of another process copies all of it). Here a worker
 * thread with a connection of its own checkpoints every second instead, PASSIVE (it never waits
 * for, nor blocks, a reader or a writer), and the store's connection stops checkpointing while
 * the worker runs. Should the worker fail or exit, the store's connection checkpoints inline again.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log/logger.ts';
import type { Db } from './sqlite-db.ts';

/** SQLite's default wal_autocheckpoint (pages), restored when the worker is gone. */
const INLINE_CHECKPOINT_PAGES = 1000;

// Plain JavaScript, so the worker runs the same from src (tsx) and from the built dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ kind: 'error', message: String((err && err.message) || err) });
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ kind: 'ready' });
`;

type WorkerMessage = { kind: 'ready' } | { kind: 'error'; message: string };

export class SqliteCheckpointer {
  private worker: Worker | undefined;
  private ready = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly everyMs = 1000,
  ) {}

  /** Whether the worker checkpoints (it said it is ready and has not exited). */
  get running(): boolean {
    return this.worker !== undefined && this.ready;
  }

  start(): void {
    if (this.worker !== undefined || this.db.memory || !this.db.open) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.db.name, everyMs: this.everyMs },
    });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'ready') {
        this.ready = true;
        if (this.worker === worker && this.db.open) this.db.pragma('wal_autocheckpoint = 0');
      } else {
        this.logger.warn({ reason: m.message }, 'WAL checkpoint failed; the next one retries');
      }
    });
    worker.on('error', (err) => this.logger.warn({ err }, 'WAL checkpointer failed; the store checkpoints inline again'));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ready = false;
      this.inline();
    });
  }

  /** Stops the worker (waits up to 2 s for it) and leaves checkpoints to the store's connection. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    this.ready = false;
    this.inline();
    const exited = once(worker, 'exit');
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 2000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private inline(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
  }
}
