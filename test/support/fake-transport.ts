/** A transport for transaction tests: records what is sent (with the fake clock's time) and injects messages. */
import { EventEmitter } from 'node:events';
import { parseMessage } from '../../src/edge/sip/parser.ts';
import type { SipMessage } from '../../src/edge/sip/message.ts';
import type { Flow, Target } from '../../src/edge/sip/transport.ts';
import type { Clock } from '../../src/edge/transaction/timers.ts';

export interface SentRecord {
  at: number;
  target: Target;
  data: Buffer;
  message: SipMessage;
}

export class FakeTransport extends EventEmitter<{ message: [msg: SipMessage, flow: Flow] }> {
  readonly advertised = { host: '192.0.2.10', port: 5060 };
  readonly sent: SentRecord[] = [];
  /** when set, every send rejects with this error */
  failWith: Error | undefined;

  constructor(private readonly clock: Clock) {
    super();
  }

  send(data: Buffer, target: Target): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    const r = parseMessage(data, 1 << 20);
    if (!r.ok) throw new Error(`sent an unparseable message: ${r.reason}`);
    this.sent.push({ at: this.clock.now(), target, data, message: r.message });
    return Promise.resolve();
  }

  /** Delivers raw text as if it came from the network. */
  inject(text: string, flow: Flow): void {
    const r = parseMessage(Buffer.from(text), 1 << 20);
    if (!r.ok) throw new Error(`test message does not parse: ${r.reason}`);
    this.emit('message', r.message, flow);
  }

  /** Start lines of everything sent, e.g. 'INVITE sip:...' or '100 Trying'. */
  summary(): string[] {
    return this.sent.map((s) => (s.message.kind === 'request' ? s.message.method : `${s.message.status}`));
  }
}

export const UDP_FLOW: Flow = { transport: 'udp', remoteAddress: '192.0.2.20', remotePort: 5070, localAddress: '192.0.2.10', localPort: 5060 };
export const TCP_FLOW: Flow = { transport: 'tcp', remoteAddress: '192.0.2.20', remotePort: 40000, localAddress: '192.0.2.10', localPort: 5060 };

/** Lets rejected sends reach their catch handlers. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
