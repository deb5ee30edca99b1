/**
 * The main thread's side of an edge running in a worker (OUTDIAL_EDGE_THREAD=on,
 * docs/performance.md §3): starts the worker, and gives the engine what startEdge gives it — the
 * addresses, an in-process wire link (over the worker's MessagePort), the live counts — plus
 * the worker's event-loop delay for GET /metrics.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StartupError } from '../errors.ts';
import type { DelaySnapshot } from '../metrics/event-loop-delay.ts';
import type { EdgeOptions, EdgeStats, RunningEdge } from './edge.ts';
import type { FromEdge, ToEdge } from './edge-thread-messages.ts';
import type { LinkPeer, WireLink } from './wire/wire-link.ts';

export interface ThreadedEdge extends Omit<RunningEdge, 'stats'> {
  /** The live counts and event-loop delay of the worker, asked for over the port. */
  snapshot(): Promise<{ stats: EdgeStats; delay: DelaySnapshot } | undefined>;
  /** The counts of the last snapshot (the engine's synchronous edgeStats). */
  stats(): EdgeStats | undefined;
}

/**
 * The worker's entry: run as JavaScript when this module is (dist/), else through tsx, which the
 * worker registers itself (bin/outdial registers it in the main thread only).
 */
function spawnWorker(data: unknown): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './edge-worker.ts' : './edge-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry, { workerData: data });
  // the package's ESM entry beside the CommonJS one require.resolve finds (tsx's `exports`)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

export async function startEdgeThread(opts: Omit<EdgeOptions, 'logger' | 'clock'>, logLevel: string): Promise<ThreadedEdge> {
  const worker = spawnWorker({ options: opts, logLevel });
  const send = (m: ToEdge) => worker.postMessage(m);
  let peer: LinkPeer | undefined;
  let lastStats: EdgeStats | undefined;
  let nextId = 0;
  const waiting = new Map<number, (v: { stats: EdgeStats; delay: DelaySnapshot } | undefined) => void>();
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => {
    exited = true;
    for (const w of waiting.values()) w(undefined);
    waiting.clear();
    peer?.closed();
    resolve();
  }));

  const ready = await new Promise<Extract<FromEdge, { kind: 'ready' }>>((resolve, reject) => {
    const onMessage = (m: FromEdge) => {
      if (m.kind === 'ready') resolve(m);
      else if (m.kind === 'failed') {
        const err = m.name === 'StartupError' ? new StartupError(m.message) : Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
        reject(err);
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`edge worker exited (${code}) before it was ready`)));
  });
  worker.removeAllListeners('message');
  worker.removeAllListeners('error');
  worker.on('error', () => undefined); // an uncaught error ends the worker: 'exit' follows

  worker.on('message', (m: FromEdge) => {
    switch (m.kind) {
      case 'frames':
        peer?.frames(m.frames);
        return;
      case 'closed':
        peer?.closed();
        peer = undefined;
        return;
      case 'stats': {
        lastStats = m.stats;
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        w?.({ stats: m.stats, delay: m.delay });
        return;
      }
      default:
        return;
    }
  });

  const link: WireLink = {
    open(p) {
      peer = p;
      send({ kind: 'open' });
      // srf writes payload by payload: one postMessage per microtask carries them all.
      let batch: string[] = [];
      const flush = () => {
        const payloads = batch;
        batch = [];
        if (!exited) send({ kind: 'send', payloads });
      };
      return {
        send(payload) {
          if (batch.length === 0) queueMicrotask(flush);
          batch.push(payload);
        },
        close() {
          peer = undefined;
          if (!exited) send({ kind: 'close' });
        },
      };
    },
  };

  let closing: Promise<void> | undefined;
  return {
    sipAddress: ready.sipAddress,
    wireAddress: ready.wireAddress,
    link,
    stats: () => lastStats,
    snapshot() {
      if (exited) return Promise.resolve(undefined);
      const id = ++nextId;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        send({ kind: 'stats', id });
      });
    },
    close() {
      closing ??= (async () => {
        if (!exited) send({ kind: 'shutdown' });
        const timer = setTimeout(() => void worker.terminate(), 5000);
        await exit;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
