import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_URL_PASSWORD } from '../support/postgres-databases.ts';
import { createTestStorage, storageEnv, type TestStorage } from './support/test-storage.ts';

const BIN = fileURLToPath(new URL('../../bin/outdial', import.meta.url));
let child: ChildProcess | undefined;
let storage: TestStorage | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await storage?.remove();
  child = undefined;
  storage = undefined;
});

describe('outdial start on a fresh database', () => {
  it('prints a generated admin password once; that password logs in; SIGTERM stops it cleanly', async () => {
    storage = await createTestStorage();
    // SQLite: in a directory that does not exist yet (start-up makes it).
    const db = storage.kind === 'sqlite' ? { OUTDIAL_DB_PATH: join(storage.dir, 'db', 'outdial.db'), OUTDIAL_DB_URL: '' } : storageEnv(storage);
    child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...process.env, OUTDIAL_HTTP_PORT: '0', OUTDIAL_SIP_HOST: '127.0.0.1', OUTDIAL_SIP_PORT: '0', OUTDIAL_EDGE_PORT: '0', ...db, OUTDIAL_ADMIN_PASSWORD: '', OUTDIAL_LOG_LEVEL: 'info', OUTDIAL_JWT_SECRET: '', OUTDIAL_HEALTH_CHECK_INTERVAL_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const started = await new Promise<{ port: number; password: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 20 s:\n${out}`)), 20_000);
      const check = () => {
        const port = /"msg":"admin API listening"/.test(out) ? /"port":(\d+)[^\n]*"msg":"admin API listening"/.exec(out)?.[1] : undefined;
        const password = /password: (\S+)/.exec(out)?.[1];
        if (port && password) {
          clearTimeout(timer);
          resolve({ port: Number(port), password });
        }
      };
      child!.stdout!.on('data', check);
      child!.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    const r = await fetch(`http://127.0.0.1:${started.port}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: started.password }),
    });
    expect(r.status).toBe(200);
    expect(out.split(started.password)).toHaveLength(2); // printed exactly once, never logged
    expect(out).not.toContain(ENGINE_URL_PASSWORD); // the database URL's password neither
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
