import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installCleanupHandlers, stopAllChildren } from './child-processes.ts';
import { runSteps } from './call-throughput.ts';
import { startOutdial, provisionCarrier } from './outdial-process.ts';
import { cpuSeconds } from './proc-stats.ts';
installCleanupHandlers();
const dir = mkdtempSync(path.join(tmpdir(), 'bench-try-'));
const rates = process.argv.slice(3).map(Number);
const pauseMs = Number(process.argv[2]);
try {
  const d = await runSteps({ name: 'direct', dir, route: async (p) => ({ host: '127.0.0.1', port: p }), pauseMs }, rates, 4, (s) => console.log(JSON.stringify(s)));
  console.log(d.maxCleanRate, d.firstFailingRate);
  const o = await startOutdial({ dir });
  const c = await provisionCarrier(o, `127.0.0.1:9`);
  const r = await runSteps({ name: 'outdial', dir, route: async (p) => { await c.pointAt(`127.0.0.1:${p}`); return o.sip; }, cpu: () => cpuSeconds(o.pid), pauseMs }, rates, 4, (s) => console.log(JSON.stringify(s)));
  console.log(r.maxCleanRate, r.firstFailingRate, dir);
  console.log(o.child.outputTail());
} finally { await stopAllChildren(); }
