import type { CallLimits } from '../cluster/call-limiter.ts';
import type { ProviderRecord } from '../routing/model.ts';

/**
 * A provider's `max_calls` / `max_cps` as the call limiter sees them (docs/cluster.md §2, §5):
 * one key per provider. Every attempt takes a slot under it, limited or not, so that
 * `GET /v1.0/dialroutes` can show each provider's current calls.
 */
export function providerLimitKey(providerId: string): string {
  return `provider:${providerId}`;
}

export function providerLimits(provider: Pick<ProviderRecord, 'max_calls' | 'max_cps'>): CallLimits {
  return { maxCalls: provider.max_calls, maxCps: provider.max_cps };
}
