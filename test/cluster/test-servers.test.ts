/**
 * The test support for real PostgreSQL and Redis (test/support/postgres-server.ts,
 * redis-server.ts): servers start on loopback at their own ports, answer, and leave nothing
 * behind (no process, no directory) once stopped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgres } from '../support/postgres-server.ts';
import { startRedis } from '../support/redis-server.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function processGone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A zombie (exited, not yet reaped) counts as gone.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('PostgreSQL test server', () => {
  it('runs two servers at once on their own ports as a non-root user, and removes each on stop', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    cleanups.push(() => a.stop(), () => b.stop());
    expect(a.port).not.toBe(b.port);
    for (const server of [a, b]) {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const r = await client.query<{ v: string; who: string; fsync: string; addr: string }>(
        "select current_setting('server_version_num') as v, current_user as who, current_setting('fsync') as fsync, inet_server_addr()::text as addr",
      );
      await client.end();
      expect(Number(r.rows[0]!.v)).toBeGreaterThanOrEqual(150000);
      expect(r.rows[0]!.who).toBe('outdial');
      expect(r.rows[0]!.fsync).toBe('off');
      expect(r.rows[0]!.addr).toBe('127.0.0.1/32');
    }
    const pid = a.pid();
    const dataDir = a.dir;
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).not.toMatch(/^Uid:\s+0\s/m);
    expect(existsSync(dataDir)).toBe(true);
    await a.stop();
    expect(processGone(pid)).toBe(true);
    expect(existsSync(dataDir)).toBe(false);
    await a.stop(); // twice is harmless
  });
});

describe('Redis test server', () => {
  it('answers, stops, starts again empty on the same port, pauses and resumes, and closes', async () => {
    const server = await startRedis();
    cleanups.push(() => server.close());
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => {});
    cleanups.push(async () => void client.disconnect());
    await client.connect();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);

    await server.stop();
    expect(server.isRunning()).toBe(false);
    await expect(client.get('k')).rejects.toThrow();

    await server.start();
    expect(server.isRunning()).toBe(true);
    await waitFor(async () => (await client.ping().catch(() => '')) === 'PONG');
    expect(await client.get('k')).toBeNull();

    server.pause();
    const hung = await Promise.race([client.ping(), new Promise((r) => setTimeout(() => r('no answer'), 300))]);
    expect(hung).toBe('no answer');
    server.resume();
    await waitFor(async () => (await client.ping().catch(() => '')) === 'PONG');

    expect((await client.config('GET', 'dir'))[1]).toBe(server.dir);
    const dir = server.dir;
    const pid = server.pid();
    await server.close();
    expect(existsSync(dir)).toBe(false);
    expect(server.isRunning()).toBe(false);
    expect(processGone(pid)).toBe(true);
  });

  it('gives servers started at once their own ports', async () => {
    const servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
    for (const s of servers) cleanups.push(() => s.close());
    expect(new Set(servers.map((s) => s.port)).size).toBe(3);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}
