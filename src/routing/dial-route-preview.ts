import { splitCodecList } from './codec-filter.ts';
import { planAttempts, type DialPlanSnapshot } from './dial-plan.ts';
import type { SipHeader } from './header-policy.ts';
import type { ProviderRecord, RouteRecord } from './model.ts';
import { buildRequestUri } from './request-uri.ts';

/**
 * The attempts for one number and customer, exactly as the SIP engine places them. Both the SIP
 * path and `GET /v1.0/dialroutes` call computeAttempts, so the preview cannot drift from what
 * calls do. Per attempt the SIP app then applies the header policy (platform headers) and the codec
 * filter (SDP) on top of what is here.
 */
export interface Attempt {
  readonly route: RouteRecord;
  readonly provider: ProviderRecord;
  readonly requestUri: string;
  /** the provider's tech_headers, in their stored order. */
  readonly headers: readonly SipHeader[];
  /** the provider's codec list (as stored, in order; matched case-insensitively); empty = SDP passed unchanged. */
  readonly codecs: readonly string[];
}

/**
 * @param number a normalized destination (`+` and 1..15 digits, see normalizeDestination).
 * @param customerId as parseCustomerHeader returns it.
 * @returns empty when no route applies (the SIP path answers 404).
 */
export function computeAttempts(snapshot: DialPlanSnapshot, number: string, customerId: string): Attempt[] {
  return planAttempts(snapshot, number, customerId).map(({ route, provider }) => ({
    route,
    provider,
    requestUri: buildRequestUri(provider, number),
    headers: Object.entries(provider.tech_headers).map(([name, value]) => ({ name, value })),
    codecs: splitCodecList(provider.codecs),
  }));
}
