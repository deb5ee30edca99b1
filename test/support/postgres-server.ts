/**
 * A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package: initdb into a
 * temp dir, `postgres` as an unprivileged user (PostgreSQL refuses to run as root), TCP on
 * 127.0.0.1 at a free port, its unix socket inside the temp dir, fsync off. `stop()` shuts it down
 * and removes the directory; a test process that dies takes the server with it (server-process.ts).
 * Several test files can each start one at the same time: ports and directories are their own.
 * Each server's data directory is a copy of one initdb result kept in the temp dir
 * (`outdial-pgtemplate-<version>-<uid>`, made by the first server on the machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { makeServerDir, removeServerDir, runAs, ServerExitedError, spawnServer, unprivilegedUser, type RunAs, type ServerProcess } from './server-process.ts';

export interface PostgresServer {
  /** `postgres://outdial@127.0.0.1:<port>/postgres` (trust authentication on loopback) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** the temp dir holding the data directory and the unix socket */
  readonly dir: string;
  /** the postmaster's process id while it runs */
  pid(): number | undefined;
  /** a URL for another database on this server (create it first with `createDatabase`) */
  urlFor(database: string): string;
  /** output the server wrote so far, for assertion messages */
  log(): string;
  /** shuts the server down (fast shutdown) and removes its directory; safe to call twice */
  stop(): Promise<void>;
}

export interface PostgresServerOptions {
  /** bound on initdb and on the server becoming ready; default 30 s */
  readonly timeoutMs?: number;
}

/** Where Debian puts the binaries of its newest installed PostgreSQL (15 on Debian 12). */
export function postgresBinDir(): string {
  const fromEnv = process.env.OUTDIAL_TEST_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const dir = path.join(root, v, 'bin');
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql; .ci/run does)');
}

const USER = 'outdial';

export async function startPostgres(opts: PostgresServerOptions = {}): Promise<PostgresServer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const bin = postgresBinDir();
  const who = unprivilegedUser();
  const dir = makeServerDir('outdial-pg-', who);
  const data = path.join(dir, 'data');
  try {
    // A copy of a data directory made once by initdb: much faster than initdb for every server.
    await runAs('cp', ['-a', await template(bin, who, timeoutMs), data], dir, who, timeoutMs);
    // The pick-then-bind race: another process may take the port before postgres binds it.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort('127.0.0.1');
      let proc: ServerProcess;
      try {
        proc = await spawnServer({
          command: path.join(bin, 'postgres'),
          args: [
            '-D', data,
            '-p', String(port),
            '-c', 'listen_addresses=127.0.0.1',
            '-c', `unix_socket_directories=${dir}`,
            '-c', 'fsync=off',
            '-c', 'synchronous_commit=off',
            '-c', 'full_page_writes=off',
            '-c', 'max_connections=50',
            '-c', 'shared_buffers=16MB',
            '-c', 'logging_collector=off',
            '-c', 'log_min_messages=warning',
          ],
          cwd: dir,
          runAs: who,
          ready: /database system is ready to accept connections/,
          readyTimeoutMs: timeoutMs,
        });
      } catch (err) {
        if (err instanceof ServerExitedError && /could not bind|already in use/i.test(err.output) && attempt < 3) continue;
        throw err;
      }
      return handle(proc, port, dir);
    }
  } catch (err) {
    removeServerDir(dir);
    throw err;
  }
}

/**
 * A data directory fresh from initdb, shared by every test server of this PostgreSQL version and
 * user and never started itself (servers run on copies). Built in a directory of its own and
 * renamed into place, so processes building it at once do not see a half-made one: the first
 * rename wins and the others discard theirs.
 */
async function template(bin: string, who: RunAs | undefined, timeoutMs: number): Promise<string> {
  const version = /\d+(?:\.\d+)+/.exec(spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout)?.[0] ?? 'unknown';
  const home = path.join(tmpdir(), `outdial-pgtemplate-${version}-${who?.uid ?? process.getuid?.() ?? 0}`);
  const data = path.join(home, 'data');
  if (existsSync(path.join(home, 'complete'))) return data;
  const build = makeServerDir('outdial-pgbuild-', who);
  try {
    await runAs(
      path.join(bin, 'initdb'),
      ['-D', path.join(build, 'data'), '-U', USER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      build,
      who,
      timeoutMs,
    );
    writeFileSync(path.join(build, 'complete'), '');
    try {
      renameSync(build, home);
    } catch (err) {
      // another process put its template in place first
      if (!existsSync(path.join(home, 'complete'))) throw err;
    }
  } finally {
    removeServerDir(build);
  }
  return data;
}

function handle(proc: ServerProcess, port: number, dir: string): PostgresServer {
  const host = '127.0.0.1';
  const urlFor = (database: string) => `postgres://${USER}@${host}:${port}/${encodeURIComponent(database)}`;
  let stopping: Promise<void> | undefined;
  return {
    url: urlFor('postgres'),
    host,
    port,
    dir,
    pid: () => (proc.isRunning() ? proc.child.pid : undefined),
    urlFor,
    log: () => proc.output(),
    stop() {
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, no waiting on them.
      stopping ??= proc.stop('SIGINT', 10_000).then(() => removeServerDir(dir));
      return stopping;
    },
  };
}
