/**
 * What the edge answers itself before a request reaches an application (RFC 3261 8.2, 16.3):
 * the checks drachtio-server's sofia stack makes, so that srf applications never see requests
 * they could not handle. Pure: a request in, a rejection (or nothing) out.
 */
import { getHeaders, type SipHeader, type SipRequest } from './sip/message.ts';
import { splitTopLevelCommas } from './sip/header-names.ts';

export interface Rejection {
  status: number;
  reason?: string;
  headers: SipHeader[];
}

/** Request-URI schemes the edge routes (RFC 3261 8.2.2.1); tel: is common from gateways. */
const SUPPORTED_SCHEMES = new Set(['sip', 'sips', 'tel']);

/**
 * Option tags a `Require` may name (RFC 3261 8.2.2.3). The edge implements none itself; these
 * need nothing from it and are left to the application (Replaces, RFC 3891; session timers,
 * RFC 4028, are refreshed by re-INVITE/UPDATE the app sends). 100rel is the edge's own: it
 * sends reliable provisionals and matches PRACKs (RFC 3262; docs/edge.md §6).
 */
const PASS_THROUGH_OPTION_TAGS = new Set(['replaces', 'timer', '100rel']);

/**
 * The first check that fails, in the order a UAS makes them: Request-URI scheme (416, 8.2.2.1),
 * Require (420 with Unsupported, 8.2.2.3; never for ACK or CANCEL, which must not be refused for
 * it). Max-Forwards is not checked: a UAS processes a request whatever its Max-Forwards (RFC 3261
 * 8.2; RFC 4475 3.3.11), as drachtio-server does; 483 is for a request about to be forwarded
 * (16.3 item 3), which is the application's decision (docs/edge-transport.md §5).
 */
export function checkIncomingRequest(req: SipRequest): Rejection | undefined {
  const colon = req.uri.indexOf(':');
  const scheme = colon > 0 ? req.uri.slice(0, colon).toLowerCase() : '';
  if (!SUPPORTED_SCHEMES.has(scheme)) return { status: 416, reason: 'Unsupported URI Scheme', headers: [] };
  if (req.method === 'ACK' || req.method === 'CANCEL') return undefined;
  const unsupported = requiredOptionTags(req).filter((t) => !PASS_THROUGH_OPTION_TAGS.has(t.toLowerCase()));
  if (unsupported.length > 0) {
    return { status: 420, reason: 'Bad Extension', headers: [{ name: 'Unsupported', value: unsupported.join(', ') }] };
  }
  return undefined;
}

/** Option tags named in Require, each once (compared case-insensitively), spelled as first written. */
function requiredOptionTags(req: SipRequest): string[] {
  const tags = new Map<string, string>();
  for (const line of getHeaders(req, 'require')) {
    for (const t of splitTopLevelCommas(line)) {
      const tag = t.trim();
      if (tag !== '' && !tags.has(tag.toLowerCase())) tags.set(tag.toLowerCase(), tag);
    }
  }
  return [...tags.values()];
}
