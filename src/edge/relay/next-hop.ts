/**
 * Where the relay sends a request: the only places it turns a URI into transport addresses, all
 * through the RFC 3263 resolver (docs/edge-transport.md §3). A new out-of-dialog request gets
 * every target of the resolution, so its client transaction can fail over to the next one.
 */
import { nameAddrUri } from '../sip/message.ts';
import type { Target, TransportName } from '../sip/transport.ts';
import type { SipResolver } from '../dns/sip-resolver.ts';
import type { Dialog } from '../dialog/dialog.ts';

/** A new out-of-dialog request: the app's route URI (outbound proxy) or the Request-URI; most preferred first. */
export function requestTargets(resolver: SipResolver, routeUri: string, requestUri: string): Promise<Target[]> {
  return resolver.resolve(routeUri || requestUri);
}

/** A request proxied to one destination (docs/edge.md §7). */
export function proxyTarget(resolver: SipResolver, uri: string): Promise<Target> {
  return resolver.first(uri);
}

/**
 * An in-dialog request (RFC 3261 12.2.1.1): the first Route of the route set, else the remote
 * target; a TCP or TLS peer that called us is reached over the connection its request came on.
 */
export function dialogTarget(resolver: SipResolver, dialog: Dialog): Promise<Target> {
  const firstRoute = dialog.routeSet[0];
  if (firstRoute !== undefined) {
    const uri = nameAddrUri(firstRoute);
    if (uri) return resolver.first(uri, dialog.transport);
  }
  if (dialog.flow && dialog.flow.transport !== 'udp') {
    return Promise.resolve({ transport: dialog.flow.transport, address: dialog.flow.remoteAddress, port: dialog.flow.remotePort });
  }
  return resolver.first(dialog.remoteTarget, dialog.transport);
}

/** A URI's own next hop, for a Route the edge forwards to (docs/edge.md §7.3). */
export function uriTarget(resolver: SipResolver, uri: string, fallback: TransportName): Promise<Target> {
  return resolver.first(uri, fallback);
}
