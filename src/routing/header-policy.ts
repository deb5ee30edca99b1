import { canonicalHeaderKey } from '../sip/header-names.ts';
import type { ProviderRecord } from './model.ts';

/**
 * Which headers go on the INVITE toward the provider (docs/routing.md §1 and §3):
 * - every provider `tech_headers` entry, as given;
 * - P-Asserted-Identity (RFC 3325 §9.1) and Privacy (RFC 3323 §4.2) from the platform;
 * - other platform headers only when config `routing.passHeaders` names them (case-insensitive);
 * - never the customer header nor any `X-Outdial-*` header (internal), and never a header the
 *   B2BUA builds itself for the new dialog (Via, To, Call-ID, ...), even when listed.
 * From is not copied: the SIP app builds the outgoing From with the platform's caller user part,
 * which `fromUser` returns.
 *
 * Decided: a platform header with the same name as one of the provider's tech_headers is not passed
 * through; the provider's value wins, so the carrier never sees two conflicting values.
 */

export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

/** How the SIP stack exposes the incoming request's headers (drachtio-srf: `req.get(name)`). */
export type HeaderGetter = (name: string) => string | undefined;

export interface HeaderPolicyConfig {
  readonly customerHeader: string;
  readonly passHeaders: readonly string[];
}

export interface HeaderPolicy {
  /** lower-cased names looked for on the platform request, in output order, with their spelling. */
  readonly passthrough: ReadonlyArray<{ readonly key: string; readonly name: string }>;
  readonly customerHeaderKey: string;
}

export interface OutgoingHeaders {
  /** The platform caller's From user part, still escaped as in the URI; null when From has none. */
  readonly fromUser: string | null;
  /** Headers to add to the outgoing INVITE, in order: tech headers, then passed platform headers. */
  readonly headers: SipHeader[];
}

const INTERNAL_PREFIX = 'x-outdial-';

/**
 * Headers of the dialog and transaction the B2BUA owns on the provider leg (RFC 3261 §8.1.1, §20),
 * as canonical keys. Neither a platform header nor a provider's tech_headers may set them.
 */
export const DIALOG_HEADERS: ReadonlySet<string> = new Set([
  'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'content-length',
  'content-type', 'route', 'record-route',
]);

/** Compact forms (`f:` is From) and case are folded by the shared SIP header-name module. */
const headerKey = canonicalHeaderKey;

/** Compile once at start-up (or on config change); the result is reused for every call. */
export function createHeaderPolicy(config: HeaderPolicyConfig): HeaderPolicy {
  const customerHeaderKey = headerKey(config.customerHeader);
  const passthrough: Array<{ key: string; name: string }> = [];
  const seen = new Set<string>();
  const wanted = ['P-Asserted-Identity', 'Privacy', ...config.passHeaders];
  for (const name of wanted) {
    const key = headerKey(name);
    if (key === '' || seen.has(key)) continue;
    if (key === customerHeaderKey || key.startsWith(INTERNAL_PREFIX) || DIALOG_HEADERS.has(key)) continue;
    seen.add(key);
    passthrough.push({ key, name: name.trim() });
  }
  return { passthrough, customerHeaderKey };
}

/** Whether a header is internal to outdial and must never reach a provider. */
export function isInternalHeader(policy: HeaderPolicy, name: string): boolean {
  const key = headerKey(name);
  return key === policy.customerHeaderKey || key.startsWith(INTERNAL_PREFIX);
}

/**
 * The user part of a From (or any name-addr / addr-spec) value, RFC 3261 §20.20 / §25:
 * `"Alice" <sip:alice@pbx>;tag=1` → `alice`; `<tel:+15551234567>` → `+15551234567`.
 */
export function userPartOf(headerValue: string): string | null {
  const value = headerValue.trim();
  let uri: string;
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt + 1);
    if (gt < 0) return null;
    uri = value.slice(lt + 1, gt);
  } else {
    // addr-spec form: header parameters (;tag=) follow the URI directly (RFC 3261 §20.10).
    const semi = value.indexOf(';');
    uri = semi >= 0 ? value.slice(0, semi) : value;
  }
  uri = uri.trim();
  const colon = uri.indexOf(':');
  if (colon <= 0) return null;
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') {
    const at = rest.indexOf('@');
    if (at <= 0) return null;
    const userinfo = rest.slice(0, at);
    const pw = userinfo.indexOf(':');
    const user = pw >= 0 ? userinfo.slice(0, pw) : userinfo;
    return user === '' ? null : user;
  }
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi >= 0 ? rest.slice(0, semi) : rest;
    return number === '' ? null : number;
  }
  return null;
}

/** name (lower-cased key) → values in arrival order. */
function indexHeaders(incoming: readonly SipHeader[]): Map<string, SipHeader[]> {
  const byKey = new Map<string, SipHeader[]>();
  for (const h of incoming) {
    const key = headerKey(h.name);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [h]);
    else list.push(h);
  }
  return byKey;
}

export function applyHeaderPolicy(
  policy: HeaderPolicy,
  incoming: readonly SipHeader[] | HeaderGetter,
  provider: Pick<ProviderRecord, 'tech_headers'>,
): OutgoingHeaders {
  const headers: SipHeader[] = [];
  const techKeys = new Set<string>();
  for (const [name, value] of Object.entries(provider.tech_headers)) {
    headers.push({ name, value });
    techKeys.add(headerKey(name));
  }

  const lookup: (key: string, name: string) => SipHeader[] =
    typeof incoming === 'function'
      ? (_key, name) => {
          const value = incoming(name);
          return value === undefined ? [] : [{ name, value }];
        }
      : (() => {
          const byKey = indexHeaders(incoming);
          return (key: string) => byKey.get(key) ?? [];
        })();

  for (const { key, name } of policy.passthrough) {
    if (techKeys.has(key)) continue;
    for (const h of lookup(key, name)) headers.push({ name: h.name, value: h.value });
  }

  const from = lookup('from', 'From')[0];
  return { fromUser: from === undefined ? null : userPartOf(from.value), headers };
}
