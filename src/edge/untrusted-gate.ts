/**
 * New INVITEs from outside the trusted sources (docs/edge.md §8): answered once, statelessly,
 * with 403 — no 100 Trying, no server transaction, so nothing is retransmitted whatever the
 * sender does with its ACK — or dropped. It sits between the transport and the transaction
 * layer, so such an INVITE costs one datagram at most: a scanner gets no amplification. Requests
 * inside a dialog (a carrier's re-INVITE or BYE) and everything else pass.
 */
import { EventEmitter } from 'node:events';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../log/logger.ts';
import { getHeader, serializeMessage, tagOf, type SipMessage } from './sip/message.ts';
import { createResponse } from './sip/response-builder.ts';
import type { Flow, Target } from './sip/transport.ts';
import type { TransportPort } from './transaction/transaction-layer.ts';
import { newTag } from './sip-identity.ts';

export type UntrustedAction = 'reject' | 'drop';

export interface UntrustedPolicy {
  /** CIDRs (or single addresses); empty = every source is trusted */
  trustedSources: readonly string[];
  action: UntrustedAction;
}

/** Source addresses as CIDR ranges; IPv4-mapped IPv6 sources match as the IPv4 they carry. */
export class SourceRanges {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map((c) => {
      const text = c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`;
      try {
        return ipaddr.parseCIDR(text);
      } catch {
        throw new Error(`trusted source ${JSON.stringify(c)} is not an IP address or CIDR`);
      }
    });
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  contains(address: string): boolean {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.process(address);
    } catch {
      return false;
    }
    return this.ranges.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits));
  }
}

interface Inner extends TransportPort {
  on(event: 'message', listener: (msg: SipMessage, flow: Flow) => void): unknown;
}

export class UntrustedGate extends EventEmitter<{ message: [msg: SipMessage, flow: Flow] }> implements TransportPort {
  private readonly ranges: SourceRanges;
  private refused = 0;

  constructor(
    private readonly inner: Inner,
    private readonly policy: UntrustedPolicy,
    private readonly log: Logger,
    /** where a stateless response goes (RFC 3261 18.2.2) */
    private readonly responseTarget: (msg: SipMessage & { kind: 'request' }, flow: Flow) => Target,
  ) {
    super();
    this.ranges = new SourceRanges(policy.trustedSources);
    inner.on('message', (msg, flow) => this.receive(msg, flow));
  }

  get advertised(): { host: string; port: number } {
    return this.inner.advertised;
  }

  send(data: Buffer, target: Target): Promise<void> {
    return this.inner.send(data, target);
  }

  /** INVITEs refused so far (for logs and tests). */
  get refusedCount(): number {
    return this.refused;
  }

  private receive(msg: SipMessage, flow: Flow): void {
    if (msg.kind === 'request' && msg.method === 'INVITE' && !this.ranges.empty && !tagOf(getHeader(msg, 'To')) && !this.ranges.contains(flow.remoteAddress)) {
      this.refused++;
      this.log.info({ source: flow.remoteAddress, action: this.policy.action, callId: getHeader(msg, 'Call-ID') }, 'untrusted INVITE refused');
      if (this.policy.action === 'reject') {
        const res = createResponse(msg, 403, 'Forbidden', newTag());
        void this.inner.send(serializeMessage(res), this.responseTarget(msg, flow)).catch(() => undefined);
      }
      return;
    }
    this.emit('message', msg, flow);
  }
}
