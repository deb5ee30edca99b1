/**
 * Max-Forwards across the B2BUA (RFC 7332 §3): a request outdial sends because of one it received
 * carries the received Max-Forwards minus one, so a loop through outdial (a provider routing the
 * number back to it, a platform/carrier loop) ends after as many hops as the first sender allowed,
 * instead of being reset to 70 on every turn.
 */

/** RFC 3261 §8.1.1.6: what a request without (or with a broken) Max-Forwards is taken to have. */
export const DEFAULT_MAX_FORWARDS = 70;

/**
 * The Max-Forwards for the request outdial sends; undefined when the received value is 0 and the
 * request must be answered 483 instead (RFC 3261 §16.3 item 3). Values above 70 are lowered to 70:
 * a B2BUA may lower it, and it bounds any loop to the usual 70 hops.
 */
export function nextMaxForwards(received: string | undefined): number | undefined {
  if (received === undefined) return DEFAULT_MAX_FORWARDS - 1;
  const text = received.trim();
  if (!/^\d{1,9}$/.test(text)) return DEFAULT_MAX_FORWARDS - 1;
  const value = Math.min(Number(text), DEFAULT_MAX_FORWARDS);
  return value === 0 ? undefined : value - 1;
}
