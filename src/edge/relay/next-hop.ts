/**
 * Where the relay sends a request: the only places it resolves a URI to a transport address.
 * RFC 3263 resolution (SRV/NAPTR, failover to the next target) belongs to the transport layer;
 * swapping `resolveTarget` for it here changes every request the relay sends.
 */
import { parseNameAddr } from '../sip/message.ts';
import { resolveTarget, type Target, type TransportName } from '../sip/transport.ts';
import type { Dialog } from '../dialog/dialog.ts';

/** A new out-of-dialog request: the app's route URI (outbound proxy) or the Request-URI. */
export function requestTarget(routeUri: string, requestUri: string): Promise<Target> {
  return resolveTarget(routeUri || requestUri, 'udp');
}

/** A request proxied to one destination (docs/edge.md §7). */
export function proxyTarget(uri: string): Promise<Target> {
  return resolveTarget(uri, 'udp');
}

/**
 * An in-dialog request (RFC 3261 12.2.1.1): the first Route of the route set, else the remote
 * target; a TCP peer that called us is reached over the connection its request came on.
 */
export function dialogTarget(dialog: Dialog): Promise<Target> {
  const firstRoute = dialog.routeSet[0];
  if (firstRoute !== undefined) {
    const uri = parseNameAddr(firstRoute)?.uri;
    if (uri) return resolveTarget(uri, dialog.transport);
  }
  if (dialog.flow?.transport === 'tcp') {
    return Promise.resolve({ transport: 'tcp', address: dialog.flow.remoteAddress, port: dialog.flow.remotePort });
  }
  return resolveTarget(dialog.remoteTarget, dialog.transport);
}

/** A URI's own next hop, for a Route the edge forwards to (docs/edge.md §7.3). */
export function uriTarget(uri: string, fallback: TransportName): Promise<Target> {
  return resolveTarget(uri, fallback);
}
