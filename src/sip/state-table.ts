/**
 * The one transition check for outdial's explicit state machines (carrier attempt, bridge, call;
 * the edge's transactions have the same shape). A table lists, per state, the states it may move
 * to; a move the table does not list is a programming error and throws, never a silent change.
 * A leaf module with no dependencies, like header-names.ts, so any layer may use it.
 */
export type StateTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** Returns `to` when the table allows `from → to`; throws naming `what` otherwise. */
export function checkedMove<S extends string>(table: StateTable<S>, from: S, to: S, what: string): S {
  if (!table[from].includes(to)) throw new Error(`${what}: illegal transition ${from} -> ${to}`);
  return to;
}

/** Whether `state` has no way out (a final state). */
export function isFinalState<S extends string>(table: StateTable<S>, state: S): boolean {
  return table[state].length === 0;
}
