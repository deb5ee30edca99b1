import { DEFAULT_CUSTOMER_ID, type Route } from '../api/types.ts';

/**
 * One customer's routes in the order the dial plan tries them (docs/console.md, "Routes"):
 * the more specific target first (a longer E.164 prefix before a shorter one, `all` last), then
 * priority ascending, then the oldest first, then id. A number only meets the routes whose target
 * prefixes it, so this is the order of every number's candidates.
 */
export function compareByDialPlan(a: Route, b: Route): number {
  const specificity = (r: Route) => (r.target === 'all' ? 0 : r.target.length);
  if (specificity(a) !== specificity(b)) return specificity(b) - specificity(a);
  if (a.target !== b.target) return a.target < b.target ? -1 : 1;
  if (a.priority !== b.priority) return a.priority - b.priority;
  // tm_create is fixed-width ISO-8601 UTC: string order is time order.
  if (a.tm_create !== b.tm_create) return a.tm_create < b.tm_create ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function orderByDialPlan(routes: readonly Route[]): Route[] {
  return [...routes].sort(compareByDialPlan);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isCustomerId(text: string): boolean {
  return UUID.test(text);
}

export function customerLabel(customerId: string): string {
  return customerId.toLowerCase() === DEFAULT_CUSTOMER_ID ? 'Default routes (every customer)' : customerId;
}

/** The customers that have routes, the default one first. */
export function customersOf(routes: readonly Route[]): string[] {
  const others = new Set<string>();
  for (const r of routes) if (r.customer_id.toLowerCase() !== DEFAULT_CUSTOMER_ID) others.add(r.customer_id.toLowerCase());
  return [DEFAULT_CUSTOMER_ID, ...[...others].sort()];
}

/** A typed priority: a number when it is an integer, else the text as typed, for the API to refuse. */
export function priorityValue(text: string): number | string {
  const typed = text.trim();
  return /^-?[0-9]{1,10}$/.test(typed) ? Number(typed) : typed;
}
