/**
 * Failover decision for one attempt's outcome (docs/routing.md §4). Two configurable code lists
 * such as "408,404,484,488,500-599,600-699" and "486,480,401,403,407,487,600,603,604,606":
 * a status in the no-failover list is passed to the platform even when the failover list also
 * covers it (so 603 Decline stops the plan although 600-699 fails over).
 */

/** No final response within the connect timeout counts as 408 Request Timeout (RFC 3261 §21.4.9). */
export const TIMEOUT_STATUS = 408;

export type AttemptOutcome =
  | { kind: 'status'; status: number }
  | { kind: 'timeout' }
  /** the request could not be sent or the connection failed: always fails over. */
  | { kind: 'transport-error' };

export interface FailoverPolicy {
  shouldFailover(status: number): boolean;
  shouldFailoverOutcome(outcome: AttemptOutcome): boolean;
}

const MIN_STATUS = 100;
const MAX_STATUS = 699;

export type StatusCodeSet = ReadonlySet<number>;

export type ParseCodeListResult = { ok: true; codes: StatusCodeSet } | { ok: false; reason: string };

/** "486, 500-599" → the set of codes. Empty or blank text → empty set. Codes must be 100..699. */
export function parseStatusCodeList(text: string): ParseCodeListResult {
  const codes = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item);
    if (m === null) return { ok: false, reason: `"${item}" is not a status code or range` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < MIN_STATUS || hi > MAX_STATUS) return { ok: false, reason: `"${item}" is outside 100-699` };
    if (lo > hi) return { ok: false, reason: `"${item}" is an empty range` };
    for (let c = lo; c <= hi; c++) codes.add(c);
  }
  return { ok: true, codes };
}

/** Throws an Error naming the bad list; meant for start-up, after config validation. */
export function createFailoverPolicy(failoverCodes: string, noFailoverCodes: string): FailoverPolicy {
  const failover = parseStatusCodeList(failoverCodes);
  if (!failover.ok) throw new Error(`routing.failoverCodes: ${failover.reason}`);
  const noFailover = parseStatusCodeList(noFailoverCodes);
  if (!noFailover.ok) throw new Error(`routing.noFailoverCodes: ${noFailover.reason}`);
  // A bitmap indexed by status: one array read per decision.
  const table = new Uint8Array(MAX_STATUS + 1);
  for (const c of failover.codes) table[c] = 1;
  for (const c of noFailover.codes) table[c] = 0;
  const shouldFailover = (status: number): boolean =>
    Number.isInteger(status) && status >= MIN_STATUS && status <= MAX_STATUS && table[status] === 1;
  return {
    shouldFailover,
    shouldFailoverOutcome(outcome) {
      switch (outcome.kind) {
        case 'status':
          return shouldFailover(outcome.status);
        case 'timeout':
          return shouldFailover(TIMEOUT_STATUS);
        case 'transport-error':
          return true;
      }
    },
  };
}
