/**
 * Destination normalization (docs/routing.md §1): the Request-URI's user part, or a tel: URI's
 * number, reduced to `+` and 1..15 digits (E.164, ITU-T E.164 §6: at most 15 digits).
 *
 * Decided: a number without a leading `+` (national or local dialling such as `5551234567` or
 * `0015551234567`) answers 484. Guessing a country would route calls to the wrong place; the
 * platform must send E.164. Any other character left after removing visual separators (letters,
 * `*`, `#`, a second `+`) is also a 484.
 */
export type NormalizeResult =
  | { ok: true; number: string }
  | { ok: false; status: 484; reason: string };

/** RFC 3966 §5.1.1 visual-separator, plus the space the spec allows (sent as %20). */
const VISUAL_SEPARATORS = /[-.() ]/g;
const E164 = /^\+[0-9]{1,15}$/;

function incomplete(reason: string): NormalizeResult {
  return { ok: false, status: 484, reason };
}

/** The escaped user part (RFC 3261 §19.1.1) or tel: subscriber (RFC 3966 §3), params cut off. */
function rawSubscriber(requestUri: string): string | null {
  const uri = requestUri.trim();
  const colon = uri.indexOf(':');
  if (colon <= 0) return null;
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  let subscriber: string;
  if (scheme === 'sip' || scheme === 'sips') {
    const at = rest.indexOf('@');
    if (at <= 0) return null;
    subscriber = rest.slice(0, at);
    // userinfo = user [ ":" password ] (RFC 3261 §25); a password never belongs to the number.
    const pw = subscriber.indexOf(':');
    if (pw >= 0) subscriber = subscriber.slice(0, pw);
  } else if (scheme === 'tel') {
    subscriber = rest;
  } else {
    return null;
  }
  // With user=phone the user part is a telephone-subscriber whose parameters (;isub=, ;ext=,
  // ;phone-context=) follow a `;` (RFC 3261 §19.1.6, RFC 3966 §3); the same holds for tel:.
  const semi = subscriber.indexOf(';');
  if (semi >= 0) subscriber = subscriber.slice(0, semi);
  const query = subscriber.indexOf('?');
  if (query >= 0) subscriber = subscriber.slice(0, query);
  return subscriber;
}

function percentDecode(text: string): string | null {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Request-URI (sip:, sips:, tel:) → `+` and 1..15 digits, or 484 with a reason. */
export function normalizeDestination(requestUri: string): NormalizeResult {
  const raw = rawSubscriber(requestUri);
  if (raw === null) return incomplete('no user part in the Request-URI');
  const decoded = percentDecode(raw);
  if (decoded === null) return incomplete('bad percent-encoding in the user part');
  const number = decoded.replace(VISUAL_SEPARATORS, '');
  if (number.length === 0) return incomplete('empty user part');
  if (number[0] !== '+') return incomplete('destination is not in +E.164 form');
  if (!E164.test(number)) return incomplete('destination must be + and 1..15 digits');
  return { ok: true, number };
}
