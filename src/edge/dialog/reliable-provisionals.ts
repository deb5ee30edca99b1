/**
 * Reliable provisional responses of one INVITE transaction (RFC 3262), as sofia-sip does them for
 * drachtio-server (docs/edge.md §6).
 *
 * Sending (the edge is UAS): a 1xx the app marked `Require: 100rel` gets an RSeq and is
 * retransmitted from T1, doubling up to T2 (over UDP; over TCP it is sent once), until a PRACK
 * with a matching RAck arrives. Only one is in flight at a time; later ones wait their turn
 * (RFC 3262 §3). A 2xx is held while an unacknowledged one carries a body (an offer or answer
 * the peer must have seen first). Without a PRACK for 64*T1 the INVITE is refused with
 * `503 Reliable Response Time-Out`, sofia's answer.
 *
 * Receiving (the edge is UAC): the first reliable 1xx sets the expected RSeq; a repeat (RSeq not
 * above the last) or a gap is not passed to the application (RFC 3262 §4), so srf PRACKs each
 * response once.
 */
import type { Clock } from '../transaction/timers.ts';

export interface ReliableSender {
  /** (re)transmits the bytes of a reliable provisional */
  send(bytes: Buffer): void;
  /** no PRACK within 64*T1: the INVITE must be refused */
  onTimeout(): void;
}

export interface ReliableTimers {
  t1: number;
  t2: number;
  /** give up after this long without a PRACK (64*T1) */
  timeout: number;
  /** retransmit (unreliable transports only) */
  retransmit: boolean;
}

interface Outstanding {
  rseq: number;
  bytes: Buffer;
  hasBody: boolean;
  sent: boolean;
}

/** RFC 3262 §3: the first RSeq is chosen between 1 and 2**31 - 1. */
function initialRSeq(): number {
  return 1 + Math.floor(Math.random() * 0x7ffffffe);
}

export class ReliableProvisionals {
  private nextRSeq = 0;
  private readonly outstanding: Outstanding[] = [];
  private heldFinal: ((go: boolean) => void) | undefined;
  private retransmitTimer: unknown;
  private timeoutTimer: unknown;
  private interval = 0;
  private sender: ReliableSender | undefined;
  private timers: ReliableTimers | undefined;
  /** UAC: the RSeq of the last reliable provisional passed to the app */
  private lastReceived: number | undefined;

  constructor(private readonly clock: Clock) {}

  /** Any reliable provisional not yet PRACKed (sent or waiting). */
  get unacknowledged(): number {
    return this.outstanding.length;
  }

  /** The RSeq the next reliable provisional will carry (allocated on first use). */
  allocate(): number {
    if (this.nextRSeq === 0) this.nextRSeq = initialRSeq();
    return this.nextRSeq++;
  }

  /**
   * Queues a reliable provisional (its RSeq already in the bytes) and sends it when no other is
   * in flight. Returns whether it went out now.
   */
  send(rseq: number, bytes: Buffer, hasBody: boolean, sender: ReliableSender, timers: ReliableTimers): boolean {
    this.sender = sender;
    this.timers = timers;
    this.outstanding.push({ rseq, bytes, hasBody, sent: false });
    if (this.outstanding.length > 1) return false;
    this.transmitHead();
    return true;
  }

  /** Whether a PRACK with RAck `rseq` acknowledges the reliable provisional in flight (RFC 3262 §3). */
  matches(rseq: number): boolean {
    const head = this.outstanding[0];
    return head !== undefined && head.sent && head.rseq === rseq;
  }

  /**
   * A matching PRACK arrived (and was handed on): the next provisional goes, or a held 2xx.
   * Returns false when it acknowledges nothing in flight.
   */
  prack(rseq: number): boolean {
    if (!this.matches(rseq)) return false;
    this.outstanding.shift();
    this.stopTimers();
    if (this.outstanding.length > 0) this.transmitHead();
    else this.flushFinal();
    return true;
  }

  /**
   * The app's 2xx: `go(true)` at once unless an unacknowledged reliable provisional carried a
   * body, then after its PRACK (sofia-sip's order), or `go(false)` when that PRACK never came.
   * Retransmissions of provisionals stop once a final goes out (RFC 3262 §3).
   */
  final(go: (ok: boolean) => void, is2xx: boolean): void {
    if (is2xx && this.outstanding.some((o) => o.hasBody)) {
      this.heldFinal?.(false);
      this.heldFinal = go;
      return;
    }
    this.outstanding.length = 0;
    this.stopTimers();
    go(true);
  }

  /**
   * UAC side: whether a reliable provisional with this RSeq is new and in order, i.e. should reach
   * the application (RFC 3262 §4).
   */
  receive(rseq: number): boolean {
    if (this.lastReceived === undefined) {
      this.lastReceived = rseq;
      return true;
    }
    if (rseq !== this.lastReceived + 1) return false;
    this.lastReceived = rseq;
    return true;
  }

  stop(): void {
    this.stopTimers();
    this.outstanding.length = 0;
    const held = this.heldFinal;
    this.heldFinal = undefined;
    held?.(false);
  }

  private transmitHead(): void {
    const head = this.outstanding[0];
    const sender = this.sender;
    const timers = this.timers;
    if (!head || !sender || !timers) return;
    head.sent = true;
    sender.send(head.bytes);
    this.interval = timers.t1;
    if (timers.retransmit) this.scheduleRetransmit(head);
    this.timeoutTimer = this.clock.setTimeout(() => {
      this.timeoutTimer = undefined;
      this.stop();
      sender.onTimeout();
    }, timers.timeout);
  }

  private scheduleRetransmit(head: Outstanding): void {
    this.retransmitTimer = this.clock.setTimeout(() => {
      this.retransmitTimer = undefined;
      if (this.outstanding[0] !== head) return;
      this.sender?.send(head.bytes);
      this.interval = Math.min(this.interval * 2, this.timers?.t2 ?? this.interval * 2);
      this.scheduleRetransmit(head);
    }, this.interval);
  }

  private flushFinal(): void {
    const held = this.heldFinal;
    this.heldFinal = undefined;
    held?.(true);
  }

  private stopTimers(): void {
    if (this.retransmitTimer !== undefined) this.clock.clearTimeout(this.retransmitTimer);
    if (this.timeoutTimer !== undefined) this.clock.clearTimeout(this.timeoutTimer);
    this.retransmitTimer = undefined;
    this.timeoutTimer = undefined;
  }
}
