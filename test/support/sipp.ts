/**
 * Runs sipp (3.6) as a real SIP peer for tests: a scenario file or a built-in scenario, on
 * 127.0.0.1 and a port picked here, bounded by -timeout/-timeout_error and killed on cleanup.
 * Each run gets its own directory for the -trace_msg / -trace_err logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portBound } from './free-port.ts';

export const SIPP_SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../sipp');

export type SippTransport = 'udp' | 'tcp';

export interface SippOptions {
  /** a path (absolute, or a file name under test/sipp/) or a built-in scenario name (`-sn`) */
  scenario: string | { builtin: 'uac' | 'uas' | 'regexp' | 'branchc' | 'branchs' | 'uac_pcap' | 'ooc_default' };
  transport: SippTransport;
  /** where a UAC sends its requests (`host:port` as the positional argument) */
  remote?: { host: string; port: number };
  /** stop after this many calls (-m); default 1 */
  calls?: number;
  /** calls per second (-r) */
  rate?: number;
  /** global timeout in seconds (-timeout, with -timeout_error); default 20 */
  timeoutSec?: number;
  /** -s, the user part of the Request-URI */
  service?: string;
  /** -key name value (replaces [name] in the scenario) */
  keys?: Record<string, string>;
  /** -set name value (scenario variables) */
  vars?: Record<string, string>;
  /** -inf CSV injection files */
  injectionFiles?: string[];
  /** local port; default a free port picked here */
  port?: number;
  /** any other sipp arguments */
  extraArgs?: string[];
  /**
   * a directory of the caller's for this run's logs (messages.log, errors.log, stat.csv), left in
   * place after the run; default: a fresh temp directory, removed when sipp exits
   */
  dir?: string;
  /** -trace_msg into messages.log (every message sent and received); default true */
  traceMessages?: boolean;
  /** -trace_stat into stat.csv, one line every `periodSec` (-fd) and a last one at exit */
  traceStat?: { periodSec: number };
  /** -l: most calls open at once */
  limit?: number;
  /** -d: the length of the scenario's <pause/> in ms */
  pauseMs?: number;
}

export interface SippResult {
  /** sipp's exit code (0: every call succeeded, 1: some failed, 99: no call processed, ...) */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** -trace_msg log: every message sent and received */
  messages: string;
  /** -trace_err log: unexpected messages */
  errors: string;
}

export interface SippRun {
  readonly host: string;
  readonly port: number;
  /** sipp's process id (undefined if it could not be spawned) */
  readonly pid: number | undefined;
  /** where its logs go (see SippOptions.dir) */
  readonly dir: string;
  /** the -trace_stat file when SippOptions.traceStat was given */
  readonly statFile: string | undefined;
  readonly transport: SippTransport;
  readonly args: string[];
  /** resolves when sipp exits on its own (or is stopped) */
  readonly done: Promise<SippResult>;
  /** kills sipp if still running and returns what it left */
  stop(): Promise<SippResult>;
}

const running = new Set<SippRun>();

function scenarioArgs(s: SippOptions['scenario']): string[] {
  if (typeof s !== 'string') return ['-sn', s.builtin];
  return ['-sf', path.isAbsolute(s) ? s : path.join(SIPP_SCENARIO_DIR, s)];
}

/**
 * Starts sipp. When the port was picked here and another process took it between the pick and
 * sipp's bind (the pick-then-release race), sipp exits at once: a new port is picked, up to 3 times.
 */
export async function startSipp(opts: SippOptions): Promise<SippRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchSipp(opts, opts.port ?? (await freePort('127.0.0.1')));
    } catch (err) {
      if (!(err instanceof PortTakenError) || opts.port !== undefined || attempt >= 3) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function launchSipp(opts: SippOptions, port: number): Promise<SippRun> {
  const host = '127.0.0.1';
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'outdial-sipp-'));
  const messageFile = path.join(dir, 'messages.log');
  const errorFile = path.join(dir, 'errors.log');
  const statFile = opts.traceStat ? path.join(dir, 'stat.csv') : undefined;
  const args = [
    ...scenarioArgs(opts.scenario),
    '-i', host,
    '-p', String(port),
    '-t', opts.transport === 'udp' ? 'u1' : 't1',
    '-m', String(opts.calls ?? 1),
    '-timeout', `${opts.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-nostdin',
    ...(opts.traceMessages === false ? [] : ['-trace_msg', '-message_file', messageFile]),
    '-trace_err', '-error_file', errorFile,
  ];
  if (statFile) args.push('-trace_stat', '-stf', statFile, '-fd', String(opts.traceStat!.periodSec));
  if (opts.limit !== undefined) args.push('-l', String(opts.limit));
  if (opts.pauseMs !== undefined) args.push('-d', String(opts.pauseMs));
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.service !== undefined) args.push('-s', opts.service);
  for (const [k, v] of Object.entries(opts.keys ?? {})) args.push('-key', k, v);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push('-set', k, v);
  for (const f of opts.injectionFiles ?? []) args.push('-inf', f);
  args.push(...(opts.extraArgs ?? []));
  if (opts.remote) args.push(`${opts.remote.host}:${opts.remote.port}`);

  const child: ChildProcess = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  let result: SippResult | undefined;
  const done = new Promise<SippResult>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (!result) {
        result = { code, signal, stdout, stderr, messages: read(messageFile), errors: read(errorFile) };
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      }
      resolve(result);
    };
    child.once('exit', (code, signal) => {
      // stdout/stderr may still hold data; 'close' follows once the pipes are drained.
      child.once('close', () => finish(code, signal));
    });
    child.once('error', (err) => {
      stderr += String(err);
      finish(null, null);
    });
  });
  const run: SippRun = {
    host,
    port,
    pid: child.pid,
    dir,
    statFile,
    transport: opts.transport,
    args,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const r = await done;
      running.delete(run);
      return r;
    },
  };
  running.add(run);
  void done.then(() => running.delete(run));
  // A UAS must be bound before the other side sends to it; a UAC binds too, and a port taken
  // meanwhile shows up here either way.
  await waitBound(host, port, opts.transport, done, opts.remote === undefined);
  return run;
}

async function waitBound(host: string, port: number, transport: SippTransport, done: Promise<SippResult>, mustBind: boolean): Promise<void> {
  let exited = false;
  void done.then(() => (exited = true));
  for (let i = 0; i < 250 && !exited; i++) {
    if (portBound(port, transport)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (exited) {
    const r = await done;
    if (/already in use|bind/i.test(r.stderr + r.stdout) && r.code !== 0) throw new PortTakenError(`sipp could not bind ${host}:${port}`);
    // A UAC may finish its whole run before the first look.
    if (!mustBind) return;
    throw new Error(`sipp exited before binding (code ${r.code}): ${r.stderr || r.stdout}`);
  }
  throw new Error(`sipp did not bind ${transport} ${host}:${port}`);
}

/** Kills every sipp still running (afterEach). */
export async function stopAllSipp(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}

/** A short human-readable account of a finished run, for assertion messages. */
export function describeSipp(r: SippResult): string {
  return `sipp exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stderr\n${r.stderr.slice(-2000)}\n--- errors\n${r.errors.slice(-3000)}\n--- messages\n${r.messages.slice(-6000)}`;
}
