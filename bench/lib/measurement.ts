/**
 * The shape every measurement module has (bench/<measurement>.ts): it runs on its own (its own
 * outdial process, its own baseline), returns a JSON-able result, renders it as Markdown and
 * states its goals against the result. bench/run.ts runs the selected ones in order.
 */
import type { Capabilities } from './capabilities.ts';
import type { GoalRow } from './goals.ts';
import type { Plan } from './plan.ts';

export interface BenchContext {
  /** the run's scratch directory (removed at the end unless --keep-dir) */
  readonly runDir: string;
  readonly quick: boolean;
  readonly plan: Plan;
  readonly capabilities: Capabilities;
  /** the kamailio binary, when installed (or installed by the bench) */
  readonly kamailio: string | undefined;
  /** why there is no kamailio, when there is none */
  readonly kamailioWhy: string | undefined;
  /** bench/out/<timestamp>: files a measurement keeps (the CPU profile) are named from it */
  readonly outStem: string;
  /** results of the measurements that ran before this one, by name */
  readonly results: ReadonlyMap<string, unknown>;
  /** progress on stderr */
  log(text: string): void;
}

export interface Measurement<R = unknown> {
  /** the name --only / --skip use */
  readonly name: string;
  /** the section's heading in the report */
  readonly title: string;
  /** run when no --only names it (false: only on request) */
  readonly byDefault: boolean;
  run(ctx: BenchContext): Promise<R>;
  /** the section's body in Markdown */
  render(result: R, ctx: BenchContext): string;
  /**
   * The goal rows: judged against `result`, or NOT MEASURED with `why` when there is none
   * (not selected, or failed).
   */
  goals(result: R | undefined, ctx: BenchContext, why: string): GoalRow[];
}

/** Lets a module declare `measurement<Result>({...})` with its types checked. */
export function measurement<R>(m: Measurement<R>): Measurement<R> {
  return m;
}
