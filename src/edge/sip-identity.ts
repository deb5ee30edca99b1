/** Random identifiers the edge puts in messages it originates (RFC 3261 19.3). */
import { randomHex, randomUuid } from './random-hex.ts';
import type { TransportName } from './sip/transport.ts';

/** RFC 3261 §8.1.1.7: a branch that starts with it was made to be unique. */
export const MAGIC_COOKIE = 'z9hG4bK';

export function newTag(): string {
  return randomHex(6);
}

/**
 * A Call-ID shaped as sofia-sip's `sip_call_id_create` makes it for drachtio-server (a GUID,
 * `8-4-4-4-12` hex, no `@host`): RFC 3261 20.8 allows `word "@" word`, but applications use the
 * Call-ID as a token too (drachtio-srf's own tests answer with `To: tag=<the B leg's Call-ID>`),
 * and a tag with `@` is no token (RFC 3261 25.1), so the peer's ACK and BYE would be refused as
 * malformed (docs/edge.md §3.1).
 */
export function newCallId(): string {
  return randomUuid();
}

/** An RFC 3261 branch (17.2.3's magic cookie, then 48 random bits), for every request the edge originates. */
export function newBranch(): string {
  return `${MAGIC_COOKIE}${randomHex(12)}`;
}

/** Where the edge says it can be reached: its advertised SIP host and port. */
export interface EdgeSipAddress {
  host: string;
  port: number;
  /** the TLS listener's port, when there is one */
  tlsPort?: number;
}

export function hostport(a: EdgeSipAddress): string {
  const host = a.host.includes(':') && !a.host.startsWith('[') ? `[${a.host}]` : a.host;
  return `${host}:${a.port}`;
}

/** The edge's Contact for messages sent over `transport` (RFC 3261 8.1.1.8; transport param for non-UDP). */
export function edgeContact(a: EdgeSipAddress, transport: TransportName, user?: string): string {
  const u = user ? `${user}@` : '';
  const where = transport === 'tls' ? { host: a.host, port: a.tlsPort ?? a.port } : a;
  return `<sip:${u}${hostport(where)}${transport === 'udp' ? '' : `;transport=${transport}`}>`;
}

export function looksLikeSdp(body: Buffer): boolean {
  return body.subarray(0, 3).toString('latin1') === 'v=0';
}
