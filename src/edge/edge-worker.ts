/**
 * The embedded SIP edge in a worker thread (docs/performance.md §3): transport, parser,
 * transactions, dialogs and the relay run here; the routing app, the admin API and the store in
 * the main thread. The one channel between them is the worker's parentPort, carrying the
 * in-process wire link's payloads (docs/performance.md §2) and a few control messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log/logger.ts';
import { EventLoopDelay } from '../metrics/event-loop-delay.ts';
import { startEdge, type EdgeOptions } from './edge.ts';
import type { LinkSender } from './wire/wire-link.ts';
import type { ToEdge, FromEdge } from './edge-thread-messages.ts';

const port = parentPort;
if (port === null) throw new Error('edge-worker runs as a worker thread');
const data = workerData as { options: Omit<EdgeOptions, 'logger' | 'clock'>; logLevel: string };
const logger = createLogger(data.logLevel);
const post = (m: FromEdge) => port.postMessage(m);

try {
  const edge = await startEdge({ ...data.options, logger });
  const delay = new EventLoopDelay();
  let sender: LinkSender | undefined;
  // The app's payloads arrive in batches; each is handed to the link in order.
  port.on('message', (m: ToEdge) => {
    switch (m.kind) {
      case 'open':
        sender = edge.link.open({ frames: (frames) => post({ kind: 'frames', frames }), closed: () => post({ kind: 'closed' }) });
        return;
      case 'send':
        for (const payload of m.payloads) sender?.send(payload);
        return;
      case 'close':
        sender?.close();
        sender = undefined;
        return;
      case 'stats':
        post({ kind: 'stats', id: m.id, stats: edge.stats(), delay: delay.snapshot() });
        return;
      case 'shutdown':
        delay.close();
        void edge.close().then(() => {
          post({ kind: 'stopped' });
          port.close();
        });
        return;
    }
  });
  post({ kind: 'ready', sipAddress: edge.sipAddress, wireAddress: edge.wireAddress });
} catch (err) {
  const e = err as { name?: unknown; code?: unknown };
  post({ kind: 'failed', message: err instanceof Error ? err.message : String(err), name: typeof e.name === 'string' ? e.name : 'Error', code: e.code === undefined ? undefined : String(e.code) });
  port.close();
}
