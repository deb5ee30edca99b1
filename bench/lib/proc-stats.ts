/**
 * A process's own accounting, read from /proc (Linux): CPU time (utime + stime of every thread,
 * proc(5) fields 14 and 15, in clock ticks) and resident memory (VmRSS).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatFields {
  ppid: number;
  pgrp: number;
  ticks: number;
}

function readStat(pid: number): StatFields {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses; the fields after it start past the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const num = (field: number) => Number(rest[field - 3]);
  return { ppid: num(4), pgrp: num(5), ticks: num(14) + num(15) };
}

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number): number {
  return readStat(pid).ticks / clockTicksPerSecond();
}

/** CPU seconds used by every live process in a process group (a forking server and its workers). */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = readStat(Number(entry));
      if (s.pgrp === pgid) ticks += s.ticks;
    } catch {
      /* exited meanwhile */
    }
  }
  return ticks / clockTicksPerSecond();
}

/** Resident set size in bytes (VmRSS from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * UDP datagrams the kernel dropped because a socket's receive buffer was full (RcvbufErrors in
 * /proc/net/snmp; system-wide, so it counts every socket of the run: outdial's and sipp's).
 */
export function udpReceiveBufferDrops(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf('RcvbufErrors');
  return i < 0 ? NaN : Number(values[i]);
}
