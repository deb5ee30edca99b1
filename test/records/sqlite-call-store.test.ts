import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { openStore } from '../../src/store/store.ts';
import { callStoreContract } from './support/call-store-contract.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The call and provider-call store contract against a real SQLite file per test. */
callStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outdial-calls-'));
  dirs.push(dir);
  return openStore({ path: join(dir, 'outdial.db'), logger: createCapturingLogger('silent').logger });
});
