/**
 * A goal line of the report: what the issue asks for, the figure measured, the baseline measured
 * beside it in the same run, their ratio, and the verdict. Verdicts:
 *   PASS / FAIL     measured under the goal's conditions and compared with its limit
 *   UNCLEAR         the instrument's resolution straddles the limit (the bounds are in `note`)
 *   NOT AVAILABLE   outdial cannot do it yet (the note says what src needs)
 *   NOT MEASURED    the section was not run (--only / --skip) or failed (the note says why)
 *   INFO            reported beside its baseline, no numeric goal
 * A --quick run marks every verdict as such: tiny counts judge nothing.
 */

export type Verdict = 'PASS' | 'FAIL' | 'UNCLEAR' | 'NOT AVAILABLE' | 'NOT MEASURED' | 'INFO';

export interface GoalRow {
  /** the issue that sets the goal, e.g. "#14" */
  issue: string;
  /** the goal in words */
  goal: string;
  measured: string;
  baseline: string;
  /** measured / baseline, when the goal is a ratio or the ratio says something */
  ratio: string;
  /** the limit, e.g. "≤ 2×" */
  target: string;
  verdict: Verdict;
  note?: string;
  /** the numbers behind the text (JSON consumers) */
  value?: number | null;
  baselineValue?: number | null;
}

export type Comparison = '<' | '<=' | '>=' | '>';

/** PASS/FAIL of `value` against `limit`; NaN/undefined values are not judged. */
export function judge(value: number | null | undefined, op: Comparison, limit: number): Verdict {
  if (value === null || value === undefined || Number.isNaN(value)) return 'NOT MEASURED';
  const ok = op === '<' ? value < limit : op === '<=' ? value <= limit : op === '>=' ? value >= limit : value > limit;
  return ok ? 'PASS' : 'FAIL';
}

/**
 * Judges a quantity known only within [lower, upper] against "at most `limit`": PASS when even
 * the upper bound is within it, FAIL when even the lower bound is over, else UNCLEAR.
 */
export function judgeBounded(lower: number | null, upper: number | null, limit: number): Verdict {
  if (lower === null || upper === null || Number.isNaN(lower) || Number.isNaN(upper)) return 'NOT MEASURED';
  if (upper <= limit) return 'PASS';
  if (lower > limit) return 'FAIL';
  return 'UNCLEAR';
}

/** The goal rows of a measurement that did not produce a result. */
export function notMeasured(rows: Array<Pick<GoalRow, 'issue' | 'goal' | 'target'>>, why: string): GoalRow[] {
  return rows.map((r) => ({ ...r, measured: '–', baseline: '–', ratio: '–', verdict: 'NOT MEASURED' as const, note: why }));
}

export function notAvailable(rows: Array<Pick<GoalRow, 'issue' | 'goal' | 'target'>>, why: string): GoalRow[] {
  return rows.map((r) => ({ ...r, measured: '–', baseline: '–', ratio: '–', verdict: 'NOT AVAILABLE' as const, note: why }));
}

export function ratioText(value: number | null | undefined, baseline: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || baseline === null || baseline === undefined || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return '–';
  return `${(value / baseline).toFixed(digits)}×`;
}
