/**
 * Measurement "digest" (issue 9): CPU per call for a plain provider beside a credential-based one
 * whose carrier challenges every INVITE (bench/sipp/carrier-uas-digest-401.xml checks the digest
 * with sipp's verifyauth; -407.xml the Proxy-Authorization's fields, see there), on one
 * `outdial start` at the same fixed rate, each provider on its own route prefix. It needs the
 * provider API to take `auth_username` / `auth_password`, found in the running outdial's OpenAPI
 * document (lib/capabilities.ts); until then it reports "not available". The plain figure is also
 * set beside the "cpu" measurement's (same rate, another process): the run's own noise.
 */
import { runStep, type StepPlan, type StepResult } from './lib/call-load.ts';
import { AUTH_FIELDS, providerAuthSupported } from './lib/capabilities.ts';
import { notAvailable, notMeasured, ratioText, type GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { provisionCarrier, startOutdial } from './lib/outdial-process.ts';
import { groupCpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';
import { AUTHENTICATING_PLATFORM_SCENARIO, DIGEST_401_CARRIER_SCENARIO, DIGEST_407_CARRIER_SCENARIO, DIGEST_CREDENTIALS } from './lib/sipp-run.ts';
import type { CpuPerCallResult } from './cpu-per-call.ts';
import { stepLog } from './throughput.ts';

type Step = Omit<StepResult, 'platform' | 'carrier'>;

export interface DigestRow {
  name: string;
  /** the number dialled: which provider's route */
  number: string;
  step: Step;
}

export interface DigestResult {
  rate: number;
  calls: number;
  /** a string: why it was not measured */
  rows: DigestRow[] | string;
  /** sipp → sipp through the 401 carrier with the platform answering the challenge: the scenario works */
  direct?: Step;
}

const strip = ({ platform: _p, carrier: _c, ...rest }: StepResult): Step => rest;

const CASES = [
  { name: 'plain provider', number: '+12125550100', target: '+1', scenario: undefined, auth: false },
  { name: 'challenged 401 (digest verified)', number: '+442071234567', target: '+44', scenario: DIGEST_401_CARRIER_SCENARIO, auth: true },
  { name: 'challenged 407', number: '+33142345678', target: '+33', scenario: DIGEST_407_CARRIER_SCENARIO, auth: true },
] as const;

export const digestAuthMeasurement = measurement<DigestResult>({
  name: 'digest',
  title: 'CPU per call: plain provider beside a digest-challenged one (issue 9)',
  byDefault: true,
  async run(ctx) {
    const { rate, calls } = ctx.plan.digest;
    const o = await startOutdial({ dir: ctx.runDir });
    try {
      if (!(await providerAuthSupported(o))) {
        return { rate, calls, rows: `not available: the provider API does not take ${AUTH_FIELDS.join(' / ')} yet (OpenAPI document of the running outdial)` };
      }
      const rows: DigestRow[] = [];
      for (const c of CASES) {
        const link = await provisionCarrier(o, '127.0.0.1:9', {
          target: c.target,
          name: c.name,
          ...(c.auth ? { extra: { auth_username: DIGEST_CREDENTIALS.username, auth_password: DIGEST_CREDENTIALS.password } } : {}),
        });
        const plan: StepPlan = {
          name: `digest-${c.target.slice(1)}`,
          dir: ctx.runDir,
          route: async (port) => {
            await link.pointAt(`127.0.0.1:${port}`);
            return o.sip;
          },
          cpu: () => groupCpuSeconds(o.pid),
          pauseMs: ctx.plan.holdMs,
          service: c.number,
          ...(c.scenario ? { carrierScenario: c.scenario } : {}),
        };
        if (rows.length === 0) await runStep(plan, ctx.plan.warmup.rate, ctx.plan.warmup.calls); // warm-up
        const s = await runStep(plan, rate, calls);
        stepLog(ctx, c.name)(s);
        rows.push({ name: c.name, number: c.number, step: strip(s) });
      }
      const direct = await runStep(
        {
          name: 'digest-direct',
          dir: ctx.runDir,
          route: async (port) => ({ host: '127.0.0.1', port }),
          pauseMs: ctx.plan.holdMs,
          carrierScenario: DIGEST_401_CARRIER_SCENARIO,
          platformScenario: AUTHENTICATING_PLATFORM_SCENARIO,
          platformArgs: ['-au', DIGEST_CREDENTIALS.username, '-ap', DIGEST_CREDENTIALS.password],
        },
        rate,
        calls,
      );
      return { rate, calls, rows, direct: strip(direct) };
    } finally {
      await o.stop();
    }
  },
  render(r, ctx) {
    if (typeof r.rows === 'string') return r.rows;
    const plain = r.rows[0]!.step.cpuSecPer1000Calls ?? NaN;
    const rows = r.rows.map((x) => [x.name, x.number, `${r.rate} cps × ${r.calls}`, fmt(x.step.cpuSecPer1000Calls ?? NaN, 3), ratioText(x.step.cpuSecPer1000Calls, plain), x.step.clean ? 'yes' : `no: ${x.step.problems.join('; ')}`]);
    if (r.direct) rows.push(['sipp → 401 carrier, platform answering (harness)', '+12125550100', `${r.rate} cps × ${r.calls}`, '–', '–', r.direct.clean ? 'yes' : `no: ${r.direct.problems.join('; ')}`]);
    const cpu = ctx.results.get('cpu') as CpuPerCallResult | undefined;
    const noise = cpu && cpu.rate === r.rate ? `\n\nThe "cpu" measurement's outdial at the same rate (another process, same run): ${fmt(cpu.outdial.cpuSecPer1000Calls ?? NaN, 3)} CPU ms / call.` : '';
    return `${table(['provider', 'number', 'load', 'CPU ms / call', '× plain', 'clean'], rows)}${noise}`;
  },
  goals(r, ctx, why): GoalRow[] {
    const g1 = { issue: '#9', goal: 'CPU per call, plain provider, unchanged within noise', target: 'within noise' };
    const g2 = { issue: '#9', goal: 'CPU per call of a digest-challenged call beside a plain one', target: 'reported' };
    if (!r) return notMeasured([g1, g2], why);
    if (typeof r.rows === 'string') return notAvailable([g1, g2], r.rows);
    const plain = r.rows[0]!.step;
    const challenged = r.rows[1]!.step;
    const cpu = ctx.results.get('cpu') as CpuPerCallResult | undefined;
    const other = cpu && cpu.rate === r.rate ? cpu.outdial.cpuSecPer1000Calls ?? null : null;
    return [
      { ...g1, measured: `${fmt(plain.cpuSecPer1000Calls ?? NaN, 3)} ms / call`, baseline: other === null ? '– (run "cpu" too)' : `${fmt(other, 3)} ms / call in "cpu"`, ratio: ratioText(plain.cpuSecPer1000Calls, other), verdict: 'INFO', note: 'a before/after comparison needs a run on the code before issue 9: compare with bench/RESULTS.md', value: plain.cpuSecPer1000Calls ?? null, baselineValue: other },
      { ...g2, measured: `${fmt(challenged.cpuSecPer1000Calls ?? NaN, 3)} ms / call (401, verified)`, baseline: `${fmt(plain.cpuSecPer1000Calls ?? NaN, 3)} ms / call plain`, ratio: ratioText(challenged.cpuSecPer1000Calls, plain.cpuSecPer1000Calls), verdict: challenged.clean ? 'INFO' : 'FAIL', ...(challenged.clean ? {} : { note: `challenged calls not clean: ${challenged.problems.join('; ')}` }), value: challenged.cpuSecPer1000Calls ?? null, baselineValue: plain.cpuSecPer1000Calls ?? null },
    ];
  },
});
