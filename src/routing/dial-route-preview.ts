import { splitCodecList } from './codec-filter.ts';
import { planAttempts, type DialPlanSnapshot, type RouteRef } from './dial-plan.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';
import { applyHeaderPolicy, type HeaderGetter, type HeaderPolicy, type SipHeader } from './header-policy.ts';
import type { ProviderRecord } from './model.ts';
import { buildRequestUri, buildToUri } from './request-uri.ts';

/**
 * The attempts for one number and customer, in plan order (docs/routing.md §2–§3). Both the SIP
 * path and `GET /v1.0/dialroutes` start from computeAttempts and finish each attempt with
 * finalAttempt, so the preview cannot drift from what calls send. A provider test call
 * (`POST /v1.0/providercalls`) has no route: it starts from providerAttempt and is finished by
 * the same finalAttempt.
 */
export interface ProviderAttempt {
  readonly provider: ProviderRecord;
  readonly requestUri: string;
  /** the attempt's To: the Request-URI without its parameters (docs/routing.md §3) */
  readonly toUri: string;
  /** the provider's codec list (as stored, in order; matched case-insensitively); empty = SDP passed unchanged. */
  readonly codecs: readonly string[];
}

export interface Attempt extends ProviderAttempt {
  /** what the snapshot keeps of the route (docs/performance.md §4); the full row is in the store */
  readonly route: RouteRef;
}

/** What finalAttempt adds: the headers after the header policy and the caller. */
export interface OutgoingFields {
  /** tech headers, then the platform headers the policy passes (docs/routing.md §3). */
  readonly headers: readonly SipHeader[];
  /** the platform caller's From user part; null without a platform request or a From user. */
  readonly fromUser: string | null;
}

/** One attempt as it goes on the wire: the Request-URI, the headers after the header policy, the codecs. */
export type Finished<A extends ProviderAttempt> = A & OutgoingFields;
export type FinalAttempt = Finished<Attempt>;

/** What the platform's INVITE contributes to an attempt; absent for a preview. */
export interface PlatformHeaders {
  readonly policy: HeaderPolicy;
  readonly headers: HeaderGetter | readonly SipHeader[];
}

const NO_PLATFORM: PlatformHeaders = { policy: { passthrough: [], customerHeaderKey: '' }, headers: [] };

/** One provider's attempt for a number: its Request-URI and codec filter (docs/routing.md §3). */
export function providerAttempt(provider: ProviderRecord, number: string): ProviderAttempt {
  return { provider, requestUri: buildRequestUri(provider, number), toUri: buildToUri(provider, number), codecs: splitCodecList(provider.codecs) };
}

/**
 * @param number a normalized destination (`+` and 1..15 digits, see normalizeDestination).
 * @param customerId as parseCustomerHeader returns it.
 * @returns empty when no route applies (the SIP path answers 404).
 */
export function computeAttempts(snapshot: DialPlanSnapshot, number: string, customerId: string): Attempt[] {
  return planAttempts(snapshot, number, customerId).map(({ route, provider }) => ({ route, ...providerAttempt(provider, number) }));
}

/** `sip:+15551234567@x` → `sip:15551234567@x`, for every sip:/sips: URI whose user part is +E.164. */
function withoutLeadingPlus(value: string): string {
  // A tel: URI is left as it is: without its + it would be a local number, which RFC 3966 §5.1.5
  // allows only with a phone-context the provider would have to agree on.
  return value.replace(/(sips?:)\+([0-9]{1,15})(?=[@;])/gi, '$1$2');
}

const PAI_KEY = canonicalHeaderKey('P-Asserted-Identity');

/** The one definition of what an attempt sends; `platform` is the call's INVITE (none for a preview). */
export function finalAttempt<A extends ProviderAttempt>(attempt: A, platform: PlatformHeaders = NO_PLATFORM): Finished<A> {
  const outgoing = applyHeaderPolicy(platform.policy, platform.headers, attempt.provider);
  let { headers, fromUser } = outgoing;
  if (!attempt.provider.leading_plus) {
    // docs/routing.md §3: a +E.164 caller follows the provider's number format, in From and in
    // the platform's P-Asserted-Identity (the provider's own tech headers are sent as given).
    if (fromUser !== null && /^\+[0-9]{1,15}$/.test(fromUser)) fromUser = fromUser.slice(1);
    const techCount = Object.keys(attempt.provider.tech_headers).length;
    headers = headers.map((h, i) => (i >= techCount && canonicalHeaderKey(h.name) === PAI_KEY ? { name: h.name, value: withoutLeadingPlus(h.value) } : h));
  }
  return { ...attempt, headers, fromUser };
}

/** `GET /v1.0/dialroutes`: the final attempts a call without platform headers would make. */
export function previewAttempts(snapshot: DialPlanSnapshot, number: string, customerId: string): FinalAttempt[] {
  return computeAttempts(snapshot, number, customerId).map((a) => finalAttempt(a));
}
