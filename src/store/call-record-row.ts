import { formatMicros } from './clock.ts';
import { timeOrderedId } from './time-ordered-id.ts';
import type { CallRecordInput } from './store-types.ts';

/** The calls table's columns (migration 3), in the order callRecordValues gives them. */
export const CALL_COLUMNS = [
  'id', 'call_id', 'source', 'caller', 'customer_id', 'destination', 'outcome', 'status', 'reason',
  'provider_id', 'hangup_by', 'talk_ms', 'duration_ms', 'attempts', 'tm_create', 'tm_hangup',
] as const;

/** One call record as the calls table stores it (both stores), tm_create at `stampMicros`. */
export function callRecordValues(r: CallRecordInput, stampMicros: number): Array<string | number | null> {
  return [
    timeOrderedId(stampMicros / 1000),
    r.call_id,
    r.source,
    r.caller,
    r.customer_id,
    r.destination,
    r.outcome,
    r.status,
    r.reason,
    r.provider_id,
    r.hangup_by,
    r.talk_ms,
    r.duration_ms,
    JSON.stringify(r.attempts),
    formatMicros(stampMicros),
    r.ended_at,
  ];
}
