import type { CallFilter } from '../api/types.ts';

/**
 * The calls page's filters live in its address (`#/calls?destination=+1555&outcome=failed`), as
 * typed; they become GET /v1.0/calls parameters here. The API judges them: nothing is checked in
 * the browser beyond turning the time boxes (UTC, as every time the console shows) into UTC times.
 */
export const CALL_FILTER_FIELDS = ['customer_id', 'destination', 'outcome', 'status', 'since', 'until'] as const;
export type CallFilterField = (typeof CALL_FILTER_FIELDS)[number];
export type CallFilterValues = Record<CallFilterField, string>;

export function filterValuesOf(params: URLSearchParams): CallFilterValues {
  const values = {} as CallFilterValues;
  for (const f of CALL_FILTER_FIELDS) values[f] = params.get(f) ?? '';
  return values;
}

/**
 * A datetime-local value (`2026-04-23T10:00`, seconds optional) read as UTC:
 * `2026-04-23T10:00:00Z`. Anything else is sent as typed, for the API to refuse.
 */
export function utcTime(text: string): string {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(t)) return `${t}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/.test(t)) return `${t}Z`;
  return t;
}

/** What GET /v1.0/calls is sent for these values (empty ones left out). */
export function callFilterOf(values: CallFilterValues): CallFilter {
  const text = (v: string) => (v.trim() === '' ? undefined : v.trim());
  return {
    customer_id: text(values.customer_id),
    destination: text(values.destination),
    outcome: text(values.outcome),
    status: text(values.status),
    since: values.since.trim() === '' ? undefined : utcTime(values.since),
    until: values.until.trim() === '' ? undefined : utcTime(values.until),
  };
}

/** 350 ms, 4.2 s, 3 min 05 s */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
