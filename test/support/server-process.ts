/**
 * Runs a real server binary (postgres, redis-server) for tests: as an unprivileged user when we
 * are root, tied to this process's life, ready when a line appears on its output, and bounded in
 * time. Everything started here is killed and its directory removed when the test process exits,
 * even when a test failed before calling stop().
 *
 * The child is started through util-linux's `setpriv` (Essential on Debian): `--pdeathsig KILL`
 * makes the kernel kill the server when the process that spawned it dies (a vitest worker killed
 * with SIGKILL runs no exit handler), and `--reuid/--regid` drop root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The user a server that refuses root runs as: the `postgres` system user that Debian's package
 * creates, else `nobody`; undefined when we are not root (then the server runs as we do).
 */
export function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { user, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and no unprivileged user (postgres, nobody) to run the server as');
}

const OWNER_FILE = 'owner.pid';

/**
 * A fresh directory under the system temp dir, owned by `runAs` when given. Directories left by
 * test processes that were killed (no exit handler ran) are removed first: each holds the pid
 * of the process that made it.
 */
export function makeServerDir(prefix: string, runAs?: RunAs): string {
  sweepStaleDirs(prefix);
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  registerDir(dir);
  return dir;
}

function sweepStaleDirs(prefix: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** everything the server wrote to stdout and stderr so far */
  output(): string;
  /** resolves with the exit code/signal once the process is gone */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** sends `signal`, waits up to `graceMs`, then SIGKILL; resolves once the process is gone */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export interface SpawnServerOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly runAs?: RunAs | undefined;
  /** the server is ready once its output matches this */
  readonly ready: RegExp;
  /** how long to wait for `ready` before killing it and failing */
  readonly readyTimeoutMs: number;
}

export class ServerExitedError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

const runningChildren = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill what is left and remove its directories.
  process.once('exit', () => {
    for (const c of runningChildren) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

function registerDir(dir: string): void {
  installExitHook();
  dirs.add(dir);
}

export function removeServerDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/**
 * Runs a command to completion as `who` (initdb, cp), bounded in time and without blocking the
 * event loop (so that servers started at once are set up at once); throws with its output on failure.
 */
export async function runAs(command: string, args: readonly string[], cwd: string, who: RunAs | undefined, timeoutMs: number): Promise<string> {
  const [cmd, argv] = wrap(command, args, who, true);
  const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  runningChildren.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; err?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, signal: null, err }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  runningChildren.delete(child);
  if (result.err) throw new ServerExitedError(`${command} failed: ${result.err.message}`, out);
  if (result.code !== 0) throw new ServerExitedError(`${command} exited with ${result.code ?? result.signal}: ${out.slice(-2000)}`, out);
  return out;
}

function wrap(command: string, args: readonly string[], who: RunAs | undefined, pdeath: boolean): [string, string[]] {
  const pre: string[] = [];
  if (who) pre.push(`--reuid=${who.uid}`, `--regid=${who.gid}`, '--init-groups');
  if (pdeath) pre.push('--pdeathsig', 'KILL');
  if (pre.length === 0) return [command, [...args]];
  return ['setpriv', [...pre, command, ...args]];
}

/** Starts a server and resolves once it is ready; rejects (with the process gone) if it exits or stalls first. */
export async function spawnServer(opts: SpawnServerOptions): Promise<ServerProcess> {
  installExitHook();
  const [cmd, argv] = wrap(opts.command, opts.args, opts.runAs, true);
  const child = spawn(cmd, argv, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  runningChildren.add(child);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      runningChildren.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      out += `\n${String(err)}`;
      runningChildren.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null && runningChildren.has(child);
  const proc: ServerProcess = {
    child,
    output: () => out,
    exited,
    isRunning,
    async stop(signal, graceMs) {
      if (!isRunning()) {
        await exited;
        return;
      }
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      if (opts.ready.test(out)) finish();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new ServerExitedError(`${opts.command} not ready within ${opts.readyTimeoutMs} ms: ${out.slice(-2000)}`, out));
    }, opts.readyTimeoutMs);
    void exited.then(({ code, signal }) => finish(new ServerExitedError(`${opts.command} exited (${code ?? signal}) before it was ready: ${out.slice(-2000)}`, out)));
  });
  return proc;
}
