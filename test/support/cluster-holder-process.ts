/**
 * Runs test/support/cluster-holder.ts in its own process (node + tsx), reads its events, and
 * kills it with SIGKILL: a crashed instance, for the cluster tests. Every holder still running is
 * killed by stopAllHolders() (afterEach) and when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HolderSpec } from './cluster-holder.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster-holder.ts');
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface Holder {
  readonly pid: number | undefined;
  /** resolves with the first event named one of `names`; rejects when the process exits or the time runs out */
  next(names: readonly string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL, and wait until it is gone */
  kill(): Promise<void>;
}

export function startHolder(spec: HolderSpec): Holder {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      for (const w of waiters) w();
      resolve();
    }),
  );
  let seen = 0;
  return {
    pid: child.pid,
    next(names, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          while (seen < events.length) {
            const e = events[seen++]!;
            if (names.includes(String(e.event))) return finish(() => resolve(e));
          }
          if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`holder exited (${child.exitCode ?? child.signalCode}): ${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`holder: no ${names.join('/')} within ${timeoutMs} ms: ${stderr.slice(-2000)}`))), timeoutMs);
        const finish = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function stopAllHolders(): Promise<void> {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}
