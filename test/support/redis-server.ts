/**
 * A throwaway Redis for tests, from Debian's `redis-server` package: no persistence, 127.0.0.1 at
 * a free port, its working directory a temp dir. It can be stopped and started again on the same
 * port (a Redis outage mid-test), or paused with SIGSTOP (a Redis that hangs: connections stay open
 * and nothing answers). `close()` stops it for good and removes the directory; a test process that
 * dies takes the server with it (server-process.ts).
 */
import { freePort } from './free-port.ts';
import { makeServerDir, removeServerDir, ServerExitedError, spawnServer, unprivilegedUser, type ServerProcess } from './server-process.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** its working directory */
  readonly dir: string;
  /** the server's process id while it runs */
  pid(): number | undefined;
  isRunning(): boolean;
  /** stops the server (SIGTERM; SIGKILL after 5 s); the port stays ours for start() */
  stop(): Promise<void>;
  /** kills the server at once (SIGKILL), as a crash would */
  kill(): Promise<void>;
  /** starts it again on the same port, empty (nothing is persisted) */
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing until resume() */
  pause(): void;
  resume(): void;
  /** output the server wrote so far (all runs), for assertion messages */
  log(): string;
  /** stops the server and removes its directory; safe to call twice */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** bound on the server becoming ready; default 15 s */
  readonly timeoutMs?: number;
}

const REDIS_SERVER = process.env.OUTDIAL_TEST_REDIS_SERVER ?? 'redis-server';

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // Redis runs as root, but there is no reason for a test server to.
  const who = unprivilegedUser();
  const dir = makeServerDir('outdial-redis-', who);
  const host = '127.0.0.1';
  let earlierLogs = '';

  const launch = (port: number) =>
    spawnServer({
      command: REDIS_SERVER,
      args: [
        '--port', String(port),
        '--bind', host,
        '--dir', dir,
        '--save', '',
        '--appendonly', 'no',
        '--daemonize', 'no',
        '--databases', '1',
        '--loglevel', 'notice',
        '--logfile', '',
      ],
      cwd: dir,
      runAs: who,
      ready: /Ready to accept connections/,
      readyTimeoutMs: timeoutMs,
    });

  let proc: ServerProcess | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort(host);
      try {
        proc = await launch(port);
        break;
      } catch (err) {
        if (err instanceof ServerExitedError && /address already in use|could not create server tcp listening socket/i.test(err.output) && attempt < 3) continue;
        throw err;
      }
    }
  } catch (err) {
    removeServerDir(dir);
    throw err;
  }

  let current: ServerProcess = proc;
  let closing: Promise<void> | undefined;
  const server: RedisServer = {
    url: `redis://${host}:${port}`,
    host,
    port,
    dir,
    pid: () => (current.isRunning() ? current.child.pid : undefined),
    isRunning: () => current.isRunning(),
    async stop() {
      current.child.kill('SIGCONT');
      await current.stop('SIGTERM', 5_000);
    },
    async kill() {
      await current.stop('SIGKILL', 0);
    },
    async start() {
      if (current.isRunning()) throw new Error('redis-server is already running');
      earlierLogs += current.output();
      // The port was released when the server exited; nothing else is expected to grab it within
      // the test, and a bind failure here fails the test with redis's own message.
      current = await launch(port);
    },
    pause() {
      current.child.kill('SIGSTOP');
    },
    resume() {
      current.child.kill('SIGCONT');
    },
    log: () => earlierLogs + current.output(),
    close() {
      closing ??= server.stop().then(() => removeServerDir(dir));
      return closing;
    },
  };
  return server;
}
