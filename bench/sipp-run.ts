/**
 * sipp as the bench's platform (UAC) and carrier (UAS), on 127.0.0.1 over UDP. Each run writes
 * its statistics with -trace_stat (a `;`-separated CSV, one line per -fd period plus a final one)
 * and, when asked, every message with -trace_msg; both are read back from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { udpFree } from '../test/support/free-port.ts';
import { spawnTracked, type Exit, type TrackedChild } from './child-processes.ts';

export const BENCH_SIPP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sipp');
export const PLATFORM_SCENARIO = path.join(BENCH_SIPP_DIR, 'platform-uac.xml');
export const CARRIER_SCENARIO = path.join(BENCH_SIPP_DIR, 'carrier-uas.xml');

/** The number every bench call dials (matches the `+1` routes the benches create). */
export const BENCH_NUMBER = '+12125550100';

export interface SippSpec {
  /** label for logs and errors, e.g. "platform@200cps" */
  name: string;
  scenario: string;
  /** the run's own directory: stats and traces go there */
  dir: string;
  port: number;
  /** UAC only: where the INVITEs go */
  remote?: { host: string; port: number };
  /** -m: stop after this many calls */
  calls: number;
  /** -r: calls per second (UAC) */
  rate?: number;
  /** -l: most calls open at once */
  limit?: number;
  /** -d: the scenario's <pause/> in ms (call hold time) */
  pauseMs?: number;
  /** -s */
  service?: string;
  /** -timeout (global bound, with -timeout_error) */
  timeoutSec: number;
  /** -trace_msg into <dir>/messages.log */
  traceMessages?: boolean;
}

export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** retransmissions sipp sent (a sign the other side answered late or not at all) */
  retransmissions: number;
  outOfCall: number;
  deadCall: number;
  currentCalls: number;
  elapsedSec: number;
}

export interface SippProcess {
  readonly spec: SippSpec;
  readonly child: TrackedChild;
  readonly statFile: string;
  readonly messageFile: string;
  readonly exited: Promise<Exit>;
  /** the latest statistics line sipp wrote (undefined before the first) */
  stats(): SippStats | undefined;
}

export function startSipp(spec: SippSpec): SippProcess {
  const statFile = path.join(spec.dir, `${spec.name}.stat.csv`);
  const messageFile = path.join(spec.dir, `${spec.name}.messages.log`);
  const args = [
    '-sf', spec.scenario,
    '-i', '127.0.0.1',
    '-p', String(spec.port),
    '-t', 'u1',
    '-m', String(spec.calls),
    '-l', String(spec.limit ?? 100000),
    '-timeout', `${spec.timeoutSec}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-trace_err', '-error_file', path.join(spec.dir, `${spec.name}.errors.log`),
    // sipp's default -max_recv_loops/-max_sched_loops (1000) are fine at these rates; the
    // watchdog would only add noise to the counters.
    '-watchdog_minor_threshold', '2000', '-watchdog_major_threshold', '10000',
  ];
  if (spec.rate !== undefined) args.push('-r', String(spec.rate));
  if (spec.pauseMs !== undefined) args.push('-d', String(spec.pauseMs));
  if (spec.service !== undefined) args.push('-s', spec.service);
  if (spec.traceMessages) args.push('-trace_msg', '-message_file', messageFile);
  if (spec.remote) args.push(`${spec.remote.host}:${spec.remote.port}`);
  const child = spawnTracked(`sipp ${spec.name}`, 'sipp', args, { cwd: spec.dir });
  return { spec, child, statFile, messageFile, exited: child.exited, stats: () => readSippStats(statFile) };
}

/** The last line of a -trace_stat file, by column name. */
export function readSippStats(file: string): SippStats | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (!header || !last) return undefined;
  const col = (name: string): number => {
    const i = header.indexOf(name);
    return i < 0 ? NaN : Number(last[i]);
  };
  const elapsed = last[header.indexOf('ElapsedTime(C)')] ?? '';
  const hms = /^(\d+):(\d+):(\d+)(?::(\d+))?/.exec(elapsed);
  return {
    created: col('TotalCallCreated'),
    successful: col('SuccessfulCall(C)'),
    failed: col('FailedCall(C)'),
    retransmissions: col('Retransmissions(C)'),
    outOfCall: col('OutOfCallMsgs(C)'),
    deadCall: col('DeadCallMsgs(C)'),
    currentCalls: col('CurrentCall'),
    elapsedSec: hms ? Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3]) + Number(hms[4] ?? 0) / 1e6 : NaN,
  };
}

/** Waits until a UAS has bound its UDP port, so the first INVITE is not lost. */
export async function waitSippReady(run: SippProcess, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (run.child.hasExited()) throw new Error(`${run.spec.name} exited early: ${run.child.outputTail()}`);
    if (!(await udpFree('127.0.0.1', run.spec.port))) return;
    await sleep(20);
  }
  throw new Error(`${run.spec.name} did not start within ${timeoutMs} ms: ${run.child.outputTail()}`);
}

/** Waits for a sipp run to end; past `timeoutMs` it is stopped (its stats are still read). */
export async function finishSipp(run: SippProcess, timeoutMs: number): Promise<{ exit: Exit; stats: SippStats | undefined; timedOut: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void run.child.stop(1000);
  }, timeoutMs);
  const exit = await run.exited;
  clearTimeout(timer);
  return { exit, stats: run.stats(), timedOut };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
