import { DEFAULT_CUSTOMER_ID } from './model.ts';

/**
 * The customer header (docs/routing.md §1): absent → the default customer (only the default
 * routes apply); present but not a UUID → 400.
 *
 * Any 8-4-4-4-12 hex UUID is accepted, not only RFC 9562 versions 1..8: the default customer id
 * `00000000-0000-0000-0000-000000000001` itself has no version nibble. The result is lower-cased,
 * the form the admin API stores, so the snapshot lookup is an exact match.
 */
export type CustomerResult =
  | { ok: true; customerId: string }
  | { ok: false; status: 400; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * @param value the header value(s) as the SIP stack gives them: undefined/null when absent, an
 *   array when the header occurs several times. An empty value counts as present and malformed.
 */
export function parseCustomerHeader(value: string | readonly string[] | undefined | null): CustomerResult {
  if (value === undefined || value === null) return { ok: true, customerId: DEFAULT_CUSTOMER_ID };
  let single: string;
  if (typeof value === 'string') {
    single = value;
  } else {
    if (value.length === 0) return { ok: true, customerId: DEFAULT_CUSTOMER_ID };
    const distinct = new Set(value.map((v) => v.trim().toLowerCase()));
    if (distinct.size > 1) return { ok: false, status: 400, reason: 'conflicting customer headers' };
    single = value[0] ?? '';
  }
  const trimmed = single.trim();
  if (!UUID.test(trimmed)) return { ok: false, status: 400, reason: 'customer header is not a UUID' };
  return { ok: true, customerId: trimmed.toLowerCase() };
}
