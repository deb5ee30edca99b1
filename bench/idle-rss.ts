/**
 * Measurement "idle-rss": the resident memory of an idle `outdial start` beside a bare
 * `node -e` process and a bare node with tsx's loader (what running the TypeScript sources costs
 * before any of outdial is loaded). When `npm run build` has emitted JavaScript, the built entry
 * point is started too, and the sources through tsx beside it (issue 14: production does not run
 * TypeScript through tsx).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnTracked } from './lib/child-processes.ts';
import type { GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { REPO_ROOT, startOutdial } from './lib/outdial-process.ts';
import { rssBytes } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';
import { sleep } from './lib/sipp-run.ts';

export interface IdleRssRow {
  process: string;
  command: string;
  rssMiB: number;
}

export interface IdleRssResult {
  rows: IdleRssRow[];
  /** whether `npm run build` left JavaScript (bin/outdial is to run it then, issue 14) */
  binRuns: 'built JavaScript present' | 'TypeScript through tsx';
  builtStale: boolean | null;
}

const MiB = 1024 * 1024;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Starts `args` under node, waits `settleMs`, reads VmRSS, stops it. */
async function bareRss(name: string, args: string[], settleMs: number): Promise<number> {
  const child = spawnTracked(name, process.execPath, args, { cwd: REPO_ROOT });
  try {
    await sleep(settleMs);
    if (child.hasExited()) throw new Error(`${name} exited: ${child.outputTail()}`);
    return rssBytes(child.pid);
  } finally {
    await child.stop(1000);
  }
}

/** `main(['start'])` of a module exporting the CLI's main (src/cli.ts or its built twin). */
const startVia = (file: string) => `const { main } = await import(${JSON.stringify(pathToFileURL(file).href)}); await main(['start']);`;

export const idleRssMeasurement = measurement<IdleRssResult>({
  name: 'idle-rss',
  title: 'Idle RSS (VmRSS of a process that has started and carries no call)',
  byDefault: true,
  async run(ctx) {
    const settle = Math.max(2000, ctx.plan.idle.settleMs);
    const rows: IdleRssRow[] = [];
    const idle = 'setInterval(() => {}, 1 << 30)';
    rows.push({ process: 'bare node', command: `node -e '${idle}'`, rssMiB: r1((await bareRss('node -e', ['-e', idle], settle)) / MiB) });
    rows.push({ process: 'bare node + tsx loader', command: `node --import tsx -e '${idle}'`, rssMiB: r1((await bareRss('node --import tsx', ['--import', 'tsx', '-e', idle], settle)) / MiB) });
    const outdialRss = async (label: string, command: string, entry?: string[]) => {
      const o = await startOutdial({ dir: ctx.runDir, ...(entry ? { entry } : {}) });
      try {
        await sleep(ctx.plan.idle.settleMs);
        rows.push({ process: label, command, rssMiB: r1(rssBytes(o.pid) / MiB) });
      } finally {
        await o.stop();
      }
    };
    const built = ctx.capabilities.built;
    await outdialRss(`outdial start (bin/outdial${built ? '' : ': TypeScript through tsx'})`, 'node bin/outdial start');
    if (built) {
      const src = path.join(REPO_ROOT, 'src/cli.ts');
      await outdialRss('outdial start, TypeScript sources through tsx', 'node --import tsx src/cli.ts main([start])', ['--import', 'tsx', '--input-type=module', '-e', startVia(src)]);
      await outdialRss(`outdial start, built ${path.relative(REPO_ROOT, built.file)}`, `node ${path.relative(REPO_ROOT, built.file)} main([start])`, ['--input-type=module', '-e', startVia(built.file)]);
    }
    return { rows, binRuns: built ? 'built JavaScript present' : 'TypeScript through tsx', builtStale: built ? built.stale : null };
  },
  render(r) {
    const bare = r.rows[0]?.rssMiB ?? NaN;
    const note = r.builtStale === null
      ? '`npm run build` emits no JavaScript yet (no dist/cli.js): bin/outdial runs the TypeScript sources through tsx.'
      : r.builtStale
        ? '**dist/ is older than src/: rerun `npm run build`, the built row measures old code.**'
        : 'Built JavaScript is present: the last two rows start it and the TypeScript sources directly, whatever bin/outdial picks.';
    return `${table(['process', 'command', 'RSS', '× bare node'], r.rows.map((x) => [x.process, x.command, `${fmt(x.rssMiB)} MiB`, `${fmt(x.rssMiB / bare, 1)}×`]))}\n\n${note}`;
  },
  goals(r, ctx, why): GoalRow[] {
    const g = { issue: '#14', goal: 'idle RSS of `outdial start` beside a bare `node -e`', target: 'reported (built JS when present)' };
    if (!r) return [{ ...g, measured: '–', baseline: '–', ratio: '–', verdict: 'NOT MEASURED', note: why }];
    const bare = r.rows[0]!;
    const start = r.rows.find((x) => x.process.startsWith('outdial start (bin'))!;
    const builtRow = r.rows.find((x) => x.process.startsWith('outdial start, built'));
    return [{
      ...g,
      measured: `${fmt(start.rssMiB)} MiB (${r.binRuns})${builtRow ? `; built ${fmt(builtRow.rssMiB)} MiB` : ''}`,
      baseline: `${fmt(bare.rssMiB)} MiB bare node`,
      ratio: `${fmt(start.rssMiB / bare.rssMiB, 1)}×`,
      verdict: 'INFO',
      ...(ctx.capabilities.built ? {} : { note: 'no built JavaScript yet: `npm run build` only type-checks (issue 14 asks it to emit dist/ that `outdial start` runs)' }),
      value: start.rssMiB,
      baselineValue: bare.rssMiB,
    }];
  },
});
