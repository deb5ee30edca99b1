import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // SIP-level suites bind real ports and start sipp processes; files run in parallel
    // but each picks its own ports, so two workers keep the 2-core machine busy without thrashing.
    maxWorkers: 2,
    pool: 'forks',
  },
});
