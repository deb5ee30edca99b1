/**
 * What outdial offers that some measurements depend on, found out without changing src: the
 * environment variables its configuration accepts (src/config/config-schema.ts ENV_VARS, the
 * single source the README's list comes from) and what `outdial --help` / `outdial start --help`
 * print, whether `npm run build` has left JavaScript to run, and (from a running process) what
 * the admin API's OpenAPI document accepts. A measurement whose capability is missing reports
 * "not available" and says what it waits for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ENV_VARS } from '../../src/config/config-schema.ts';
import { REPO_ROOT, type OutdialProcess } from './outdial-process.ts';

/** Names a worker/process-count option may have; the first one the config accepts is used. */
export const WORKER_VARIABLES = ['OUTDIAL_WORKERS', 'OUTDIAL_SIP_WORKERS', 'OUTDIAL_APP_WORKERS', 'OUTDIAL_PROCESSES', 'OUTDIAL_THREADS'] as const;
/** issue 11: PostgreSQL instead of the SQLite file */
export const DB_URL_VARIABLE = 'OUTDIAL_DB_URL';
/** issue 9: the provider fields of a credential-based trunk */
export const AUTH_FIELDS = ['auth_username', 'auth_password'] as const;

export interface BuiltEntry {
  /** the JavaScript module exporting `main` (like src/cli.ts) */
  file: string;
  /** a file under src/ is newer than it: `npm run build` was not rerun */
  stale: boolean;
}

export interface Capabilities {
  /** every OUTDIAL_* variable the configuration accepts */
  envVars: string[];
  /** the worker/process-count variable, when outdial has one */
  workersVar: string | undefined;
  /**
   * The switch that puts the SIP edge in a thread of its own (`on`), when outdial has it: the
   * way one outdial process uses a second core without a worker count (docs/performance.md §3).
   */
  edgeThreadVar: string | undefined;
  /** OUTDIAL_DB_URL (PostgreSQL) is accepted */
  dbUrl: boolean;
  /** JavaScript emitted by `npm run build`, when present */
  built: BuiltEntry | undefined;
  /** what the CLI prints for --help (start's own help, when it has one) */
  helpText: string;
}

function helpText(): string {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/outdial'), ...args], { encoding: 'utf8', timeout: 60_000, cwd: REPO_ROOT });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  };
  return `${run(['--help'])}\n${run(['start', '--help'])}`;
}

const EDGE_THREAD_VARIABLE = 'OUTDIAL_EDGE_THREAD';

/** A flag named in the help text (`--workers`) maps to its OUTDIAL_* variable. */
export function variableFromHelp(help: string): string | undefined {
  for (const v of WORKER_VARIABLES) {
    const flag = `--${v.slice('OUTDIAL_'.length).toLowerCase().replaceAll('_', '-')}`;
    if (help.includes(v) || new RegExp(`${flag}\\b`).test(help)) return v;
  }
  return undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Where a build may put src/cli.ts as JavaScript. */
const BUILT_CANDIDATES = ['dist/cli.js', 'dist/src/cli.js', 'build/cli.js', 'build/src/cli.js'];

export function findBuiltEntry(): BuiltEntry | undefined {
  for (const rel of BUILT_CANDIDATES) {
    const file = path.join(REPO_ROOT, rel);
    if (existsSync(file)) return { file, stale: newestMtime(path.join(REPO_ROOT, 'src')) > statSync(file).mtimeMs };
  }
  return undefined;
}

export function detectCapabilities(overrides: { workersVar?: string } = {}): Capabilities {
  const envVars = ENV_VARS.map((v) => v.name);
  const help = helpText();
  const workersVar = overrides.workersVar ?? WORKER_VARIABLES.find((v) => envVars.includes(v)) ?? variableFromHelp(help);
  const edgeThreadVar = envVars.includes(EDGE_THREAD_VARIABLE) ? EDGE_THREAD_VARIABLE : undefined;
  return { envVars, workersVar, edgeThreadVar, dbUrl: envVars.includes(DB_URL_VARIABLE) || help.includes(DB_URL_VARIABLE), built: findBuiltEntry(), helpText: help.trim().slice(0, 2000) };
}

/**
 * Whether the provider API takes credentials (issue 9): the OpenAPI document of a running
 * outdial names both fields.
 */
export async function providerAuthSupported(outdial: Pick<OutdialProcess, 'base'>): Promise<boolean> {
  const res = await fetch(`${outdial.base}/v1.0/openapi.json`);
  if (!res.ok) return false;
  const doc = await res.text();
  return AUTH_FIELDS.every((f) => doc.includes(`"${f}"`));
}
