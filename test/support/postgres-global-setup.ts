/**
 * vitest globalSetup of the `admin-postgres` project (vitest.config.ts): one throwaway
 * PostgreSQL 15 server (postgres-server.ts) for the whole run, shared by every worker; each test
 * engine gets a database of its own on it (test/admin/support/test-storage.ts). Stopped, and its
 * directory removed, when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { preparePostgresForEngines } from './postgres-databases.ts';
import { startPostgres } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the shared server: a superuser URL, and its data directory */
    postgres: { url: string; dataDir: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  try {
    await preparePostgresForEngines(server.url);
  } catch (err) {
    await server.stop();
    throw err;
  }
  project.provide('postgres', { url: server.url, dataDir: `${server.dir}/data` });
  return () => server.stop();
}
