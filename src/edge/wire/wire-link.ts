/**
 * The in-process wire link (docs/performance.md §2): the drachtio wire protocol's payloads
 * between the edge and an srf application without TCP, framing or Buffers. The session is the
 * same as over TCP (authenticate, route, sip, ...); only the carriage differs:
 *
 * - app → edge: payloads, batched per microtask, so the edge never runs inside srf's call stack;
 * - edge → app: frames, batched once per event-loop turn (as one TCP read would be). A frame
 *   marked `afterTurn` (an in-dialog request, docs/edge.md §4.3) is handed to srf one macrotask
 *   after what came before it, so srf's deferred work for the earlier frames (its 'ack' emit, the
 *   app's listeners attached a promise tick after a Dialog resolved) has run.
 *
 * Within one thread the link is two closures; across threads (docs/performance.md §3) the same
 * frames travel over a MessagePort.
 */
import type { SessionConnection, SessionState } from './wire-server.ts';

/** One edge → app payload; `afterTurn` ones wait for the app's event loop to turn first. */
export type LinkFrame = string | { readonly afterTurn: string };

/** The edge's end of one link, as the WireServer hands it out. */
export interface EdgeLinkEnd {
  /** One payload from the app (`<msgId>|<command>|...`). */
  receive(payload: string): void;
  /** The app went away. */
  close(): void;
}

/** What the application side sees: it opens the link once with its handlers. */
export interface WireLink {
  open(peer: LinkPeer): LinkSender;
}

export interface LinkPeer {
  /** frames from the edge, in order */
  frames(frames: readonly LinkFrame[]): void;
  /** the edge closed the link */
  closed(): void;
}

export interface LinkSender {
  send(payload: string): void;
  close(): void;
}

/** The edge side of a link: a session connection whose sends are batched per turn. */
export class LinkConnection implements SessionConnection {
  state: SessionState = 'unauthenticated';
  tags = '';
  readonly remote = 'in-process';
  readonly ordersDeliveries = true;
  private outbox: LinkFrame[] = [];
  private scheduled = false;
  private finished = false;

  constructor(
    readonly id: string,
    private readonly out: (frames: LinkFrame[]) => void,
    private readonly onClosed: () => void,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  send(payload: string, afterTurn = false): void {
    if (this.closed) return;
    this.outbox.push(afterTurn ? { afterTurn: payload } : payload);
    this.schedule();
  }

  /** What was sent still goes out, then the link closes. */
  end(): void {
    if (this.closed) return;
    this.state = 'closed';
    this.schedule();
  }

  destroy(): void {
    this.state = 'closed';
    this.outbox = [];
    this.finish();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.outbox;
    this.outbox = [];
    if (frames.length > 0 && !this.finished) this.out(frames);
    if (this.closed) this.finish();
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onClosed();
  }
}

/** A link to an edge in this thread: `attach` is the WireServer's attachLink. */
export function sameThreadLink(attach: (out: (frames: LinkFrame[]) => void, onClosed: () => void) => EdgeLinkEnd): WireLink {
  return {
    open(peer) {
      let inbox: string[] = [];
      let scheduled = false;
      const end = attach(
        (frames) => peer.frames(frames),
        () => peer.closed(),
      );
      const flush = () => {
        scheduled = false;
        const batch = inbox;
        inbox = [];
        for (const payload of batch) end.receive(payload);
      };
      return {
        send(payload) {
          inbox.push(payload);
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(flush);
          }
        },
        close: () => end.close(),
      };
    },
  };
}
