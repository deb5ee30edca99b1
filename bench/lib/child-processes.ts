/**
 * Every process the bench starts goes through here, so that all of them are stopped at the end,
 * on failure, and on Ctrl-C — by pid, never by name. A child is spawned in its own process group
 * (`detached`) so that stopping it also stops anything it forked (kamailio's workers). sipp is
 * started by the tests' own launcher (test/support/sipp.ts) and adopted here by pid.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedChild {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  /** true once the process has exited */
  hasExited(): boolean;
  /** the last output lines (stdout and stderr), for error messages */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  stop(graceMs?: number): Promise<Exit>;
}

const live = new Set<TrackedChild>();
const TAIL_BYTES = 8000;

export function spawnTracked(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): TrackedChild {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-TAIL_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true;
      live.delete(child);
      resolve({ code, signal });
    });
    proc.once('error', (err) => {
      tail += String(err);
      done = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const pid = proc.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal); // the whole process group
    } catch {
      try {
        proc.kill(signal);
      } catch {
        /* already gone */
      }
    }
  };
  const child: TrackedChild = {
    name,
    pid,
    process: proc,
    exited,
    hasExited: () => done,
    outputTail: () => tail,
    async stop(graceMs = 3000) {
      if (done) return exited;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      signalGroup('SIGKILL'); // leftovers of the group (forked workers), if any
      return exit;
    },
  };
  live.add(child);
  return child;
}

/**
 * A process started elsewhere (sipp through test/support/sipp.ts) that must be stopped with the
 * bench's own: `stop` is awaited by stopAllChildren, the pid is killed at exit if still listed.
 * Returns the function that removes it from the list once it has ended.
 */
export function adoptChild(pid: number | undefined, stop: () => Promise<unknown>): () => void {
  if (pid === undefined) return () => undefined;
  const entry = { pid, stop };
  adopted.add(entry);
  return () => adopted.delete(entry);
}

const adopted = new Set<{ pid: number; stop: () => Promise<unknown> }>();

/** Stops every child still running (each by its own pid / process group). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...[...live].map((c) => c.stop(2000)), ...[...adopted].map((a) => a.stop())]);
  adopted.clear();
}

let installed = false;

/** On Ctrl-C / SIGTERM stop the children first; on any exit kill what is left, synchronously. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const c of live) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const a of adopted) {
      try {
        process.kill(a.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}
