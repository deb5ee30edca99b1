import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installCleanupHandlers, stopAllChildren } from './child-processes.ts';
import { profileCallPath } from './cpu-profile.ts';
installCleanupHandlers();
const dir = mkdtempSync(path.join(tmpdir(), 'bench-try-'));
try {
  const r = await profileCallPath(dir, { rate: 300, calls: 3000, holdMs: 1000, warmupCalls: 600 });
  console.log(JSON.stringify(r, null, 1));
} finally { await stopAllChildren(); }
