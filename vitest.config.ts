import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The admin contract suite (test/admin) runs once per store (docs/cluster.md §8.5): the `main`
 * project on SQLite, as every other test, and `admin-postgres` on PostgreSQL (one real server for
 * the run, a database per test engine). Files about one store's own mechanics stay in `main`.
 */
const SQLITE_ONLY_ADMIN = ['test/admin/store.test.ts', 'test/admin/startup-checks.test.ts', 'test/admin/store-change-log.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // SIP-level suites bind real ports and start sipp processes; files run in parallel
    // but each picks its own ports, so two workers keep the 2-core machine busy without thrashing.
    maxWorkers: 2,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'admin-postgres',
          include: ['test/admin/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SQLITE_ONLY_ADMIN],
          env: { OUTDIAL_TEST_STORE: 'postgres' },
          globalSetup: ['test/support/postgres-global-setup.ts'],
        },
      },
    ],
  },
});
