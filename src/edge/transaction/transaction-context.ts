/** What a transaction needs from the layer that owns it; tests supply their own. */
import type { Logger } from '../../log/logger.ts';
import type { Target } from '../sip/transport.ts';
import type { Lingering } from './linger-queue.ts';
import type { Clock, TimerValues } from './timers.ts';

export interface TransactionContext {
  timers: TimerValues;
  clock: Clock;
  logger: Logger;
  send(data: Buffer, target: Target): Promise<void>;
  /**
   * Told once when a transaction terminates, before its 'terminated' event: the layer forgets it
   * here. A call rather than one more listener per transaction, which would live (and keep its
   * closure) for the 64*T1 a transaction lingers after its final response.
   */
  ended?(txn: { readonly id: string }): void;
  /** txn.lingerEnded() in ms: a transaction's last wait (J, D, K, I, L, M) on the layer's shared queue (linger-queue.ts) */
  linger(txn: Lingering, ms: number): void;
}

/** Refuses a move that the state machine's table does not allow. */
export function checkTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S, what: string): void {
  if (!table[from].includes(to)) throw new Error(`${what}: illegal transition ${from} -> ${to}`);
}
