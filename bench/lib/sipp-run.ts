/**
 * sipp as the bench's platform (UAC) and carrier (UAS), on 127.0.0.1 over UDP, launched by the
 * tests' own sipp launcher (test/support/sipp.ts: argument building, port pick with the bind-race
 * retry, readiness from the kernel's socket table). What is the bench's own: each run writes its
 * statistics with -trace_stat (a `;`-separated CSV, one line per second plus a last one) into the
 * run directory, which is kept (--keep-dir), and every sipp is stopped with the bench's children.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { startSipp, type SippResult, type SippRun } from '../../test/support/sipp.ts';
import { adoptChild } from './child-processes.ts';

export const BENCH_SIPP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../sipp');
export const PLATFORM_SCENARIO = path.join(BENCH_SIPP_DIR, 'platform-uac.xml');
export const CARRIER_SCENARIO = path.join(BENCH_SIPP_DIR, 'carrier-uas.xml');
/** carriers that challenge every INVITE: 401 with the digest checked (verifyauth), 407 checked by pattern */
export const DIGEST_401_CARRIER_SCENARIO = path.join(BENCH_SIPP_DIR, 'carrier-uas-digest-401.xml');
export const DIGEST_407_CARRIER_SCENARIO = path.join(BENCH_SIPP_DIR, 'carrier-uas-digest-407.xml');
/** the trunk credentials those carriers expect */
export const DIGEST_CREDENTIALS = { username: 'bench-trunk', password: 'bench-secret' } as const;
/** a platform that answers a 401/407 itself ([authentication], -au/-ap): the carriers' own check */
export const AUTHENTICATING_PLATFORM_SCENARIO = path.join(BENCH_SIPP_DIR, 'platform-uac-auth.xml');

/** The number every bench call dials (matches the `+1` routes the benches create). */
export const BENCH_NUMBER = '+12125550100';

export interface SippSpec {
  /** label for logs and errors and the name of the run's subdirectory, e.g. "platform" */
  name: string;
  scenario: string;
  /** the step's directory: this run's logs go to <dir>/<name>/ */
  dir: string;
  /** UAC only: where the INVITEs go */
  remote?: { host: string; port: number };
  /** -m: stop after this many calls */
  calls: number;
  /** -r: calls per second (UAC) */
  rate?: number;
  /** -l: most calls open at once; default 100000 (no cap) */
  limit?: number;
  /** -d: the scenario's <pause/> in ms (call hold time) */
  pauseMs?: number;
  /** -s */
  service?: string;
  /** -key name value */
  keys?: Record<string, string>;
  /** any other sipp arguments (e.g. -au / -ap) */
  extraArgs?: string[];
  /** -timeout (global bound, with -timeout_error) */
  timeoutSec: number;
  /** -trace_msg (post-dial delay; costs sipp CPU); default false */
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
  readonly run: SippRun;
  readonly port: number;
  readonly messageFile: string;
  readonly done: Promise<SippResult>;
  /** the latest statistics line sipp wrote (undefined before the first) */
  stats(): SippStats | undefined;
  /** kills sipp if still running */
  stop(): Promise<SippResult>;
}

export async function startBenchSipp(spec: SippSpec): Promise<SippProcess> {
  const dir = path.join(spec.dir, spec.name);
  mkdirSync(dir, { recursive: true });
  const run = await startSipp({
    scenario: spec.scenario,
    transport: 'udp',
    calls: spec.calls,
    timeoutSec: spec.timeoutSec,
    dir,
    traceMessages: spec.traceMessages ?? false,
    traceStat: { periodSec: 1 },
    limit: spec.limit ?? 100000,
    ...(spec.remote ? { remote: spec.remote } : {}),
    ...(spec.rate !== undefined ? { rate: spec.rate } : {}),
    ...(spec.pauseMs !== undefined ? { pauseMs: spec.pauseMs } : {}),
    ...(spec.service !== undefined ? { service: spec.service } : {}),
    ...(spec.keys ? { keys: spec.keys } : {}),
    // the watchdog would only add noise to the counters at these rates
    extraArgs: ['-watchdog_minor_threshold', '2000', '-watchdog_major_threshold', '10000', ...(spec.extraArgs ?? [])],
  });
  const release = adoptChild(run.pid, () => run.stop());
  void run.done.then(release);
  const statFile = run.statFile!;
  return {
    spec,
    run,
    port: run.port,
    messageFile: path.join(dir, 'messages.log'),
    done: run.done,
    stats: () => readSippStats(statFile),
    stop: () => run.stop(),
  };
}

/** The last line of a -trace_stat file, by column name. */
export function readSippStats(file: string): SippStats | undefined {
  if (!existsSync(file)) return undefined;
  return parseSippStats(readFileSync(file, 'utf8'));
}

export function parseSippStats(text: string): SippStats | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
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

/** Waits for a sipp run to end; past `timeoutMs` it is stopped (its stats are still read). */
export async function finishSipp(p: SippProcess, timeoutMs: number): Promise<{ result: SippResult; stats: SippStats | undefined; timedOut: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void p.stop();
  }, timeoutMs);
  const result = await p.done;
  clearTimeout(timer);
  return { result, stats: p.stats(), timedOut };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
