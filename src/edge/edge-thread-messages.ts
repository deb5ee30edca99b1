/** What the main thread and the edge worker say to each other (docs/performance.md §3). */
import type { DelaySnapshot } from '../metrics/event-loop-delay.ts';
import type { EdgeStats, RunningEdge } from './edge.ts';
import type { LinkFrame } from './wire/wire-link.ts';

export type ToEdge =
  | { kind: 'open' }
  | { kind: 'send'; payloads: string[] }
  | { kind: 'close' }
  | { kind: 'stats'; id: number }
  | { kind: 'shutdown' };

export type FromEdge =
  | { kind: 'ready'; sipAddress: RunningEdge['sipAddress']; wireAddress: RunningEdge['wireAddress'] }
  | { kind: 'failed'; message: string; name: string; code: string | undefined }
  | { kind: 'frames'; frames: readonly LinkFrame[] }
  | { kind: 'closed' }
  | { kind: 'stats'; id: number; stats: EdgeStats; delay: DelaySnapshot }
  | { kind: 'stopped' };
