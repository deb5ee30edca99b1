import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/admin/auth/password.ts';
import { StartupError } from '../../src/errors.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ADMIN_PASSWORD, startTestEngine } from './support/admin-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/outdial', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outdial-startup-'));
  dirs.push(d);
  return d;
}

/** `outdial start` with these variables; resolves with its exit code and output (bounded). */
function start(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...process.env, OUTDIAL_HTTP_PORT: '0', OUTDIAL_SIP_HOST: '127.0.0.1', OUTDIAL_SIP_PORT: '0', OUTDIAL_EDGE_PORT: '0', OUTDIAL_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`outdial did not stop within 20 s:\n${out}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('start-up refuses weak secrets with a clear message', () => {
  it('OUTDIAL_JWT_SECRET shorter than 32 bytes and a first-start password shorter than 12 characters: exit 2, both named, neither shown', async () => {
    const dir = tempDir();
    const r = await start({ OUTDIAL_DB_PATH: join(dir, 'outdial.db'), OUTDIAL_JWT_SECRET: 'only-20-bytes-secret', OUTDIAL_ADMIN_PASSWORD: 'change-me' });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/OUTDIAL_JWT_SECRET .*20 bytes; it must be at least 32 bytes/);
    expect(r.out).toMatch(/OUTDIAL_ADMIN_PASSWORD .*9 characters; it must be at least 12/);
    expect(r.out).not.toContain('only-20-bytes-secret');
    expect(r.out).not.toContain('change-me');
    expect(r.out).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  }, 30_000);
});

describe('start-up stops on a database file it must not touch, naming the file', () => {
  it('a file that is not SQLite: outdial start exits 1 with the path in the message, the file untouched', async () => {
    const dir = tempDir();
    const path = join(dir, 'outdial.db');
    const content = 'this is a text file, not a database\n'.repeat(200);
    writeFileSync(path, content);
    const r = await start({ OUTDIAL_DB_PATH: path, OUTDIAL_ADMIN_PASSWORD: ADMIN_PASSWORD });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`outdial: the database file ${path} is not an SQLite database`);
    expect(r.out).not.toMatch(/at .*\.ts:\d+/);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(existsSync(`${path}-wal`)).toBe(false);
  }, 30_000);

  it('a schema newer than this build: refused before anything is written', async () => {
    const dir = tempDir();
    const path = join(dir, 'outdial.db');
    (await openSqliteStore({ path, logger: createCapturingLogger().logger }).close());
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(MIGRATIONS.length + 7, new Date().toISOString());
    const before = db.prepare("SELECT count(*) AS n FROM sqlite_master").get();
    db.close();
    const err = await startTestEngine({ dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain(`schema version ${MIGRATIONS.length + 7}, newer than this build of outdial knows (${MIGRATIONS.length})`);
    const after = new Database(path);
    expect(after.prepare("SELECT count(*) AS n FROM sqlite_master").get()).toEqual(before);
    expect(after.prepare('SELECT count(*) AS n FROM agents').get()).toEqual({ n: 0 });
    after.close();
  });

  it("another application's SQLite file: refused, its tables untouched", async () => {
    const dir = tempDir();
    const path = join(dir, 'outdial.db');
    const db = new Database(path);
    db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5)");
    db.close();
    expect(() => openSqliteStore({ path, logger: createCapturingLogger().logger })).toThrow(new RegExp(`${path.replaceAll('/', '\\/')} is an SQLite database of another application \\(tables: invoices\\)`));
    const after = new Database(path);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'invoices' }]);
    after.close();
  });
});

describe('migration of a database made by the previous schema', () => {
  it('keeps its agents; their passwords and tokens issued before the upgrade still work', async () => {
    const dir = tempDir();
    const path = join(dir, 'outdial.db');
    // Version 1 exactly as released, with its first-start admin and stored signing key.
    const secret = 'v1-stored-signing-key-0123456789abcdef';
    const v1 = new Database(path);
    v1.pragma('journal_mode = WAL');
    v1.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT');
    v1.exec(MIGRATIONS[0]!);
    v1.prepare('INSERT INTO schema_version VALUES (1, ?)').run(new Date().toISOString());
    v1.prepare("INSERT INTO settings VALUES ('jwt_secret', ?)").run(secret);
    const id = '0d6b1f7e-1111-4222-8333-444455556666';
    v1.prepare("INSERT INTO agents VALUES (?, 'admin', ?, 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', '9999-01-01T00:00:00.000000Z')")
      .run(id, await hashPassword('the v1 admin password'));
    const providerId = '7a1b2c3d-1111-4222-8333-444455556666';
    v1.prepare(
      "INSERT INTO providers VALUES (?, 'sip', 'old.example.com', '', '', '{}', 'old', '', '', '{}', 'healthy', NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', '9999-01-01T00:00:00.000000Z')",
    ).run(providerId);
    v1.close();
    expect(readFileSync(path).includes(Buffer.from(secret))).toBe(true); // in clear, as versions before encryption kept it
    // A v1 token: no password-version claim.
    const oldToken = await new SignJWT({ username: 'admin' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(id).setIssuer('outdial').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));

    const e = await startTestEngine({ dir, overrides: { admin: { password: '' } } });
    expect(e.printed).toEqual([]); // not a first start
    expect((await e.request('GET', '/v1.0/providers', { token: oldToken })).status).toBe(200);
    await e.login('admin', 'the v1 admin password');
    expect((await e.request('GET', `/v1.0/agents/${id}`, { token: oldToken })).body).toMatchObject({ username: 'admin', name: '', detail: '', permission: 1 });
    expect((await e.request('POST', '/v1.0/accesskeys', { token: oldToken, body: {} })).status).toBe(200);
    // migration 4: a provider from before the carrier settings gets their defaults
    expect((await e.request('GET', `/v1.0/providers/${providerId}`, { token: oldToken })).body).toMatchObject({
      hostname: 'old.example.com', health_status: 'healthy', auth_username: '', auth_password_set: false, register: false, register_expires: 3600,
      registration_status: 'off', registration_checked_at: null, leading_plus: true, transport: 'udp', max_calls: 0, max_cps: 0,
    });
    await e.close(true);
    const db = new Database(path);
    expect((db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number }).v).toBe(MIGRATIONS.length);
    // docs/api.md §20: the clear signing key was sealed and its clear copy removed from the files
    expect(db.prepare('SELECT key FROM settings ORDER BY key').all()).toEqual([{ key: 'jwt_secret_sealed' }, { key: 'secret_key_id' }]);
    db.close();
    for (const suffix of ['', '-wal']) {
      if (!existsSync(path + suffix)) continue;
      expect(readFileSync(path + suffix).includes(Buffer.from(secret)), `the clear key in ${path}${suffix}`).toBe(false);
    }
    // and the next start keeps using it: the old token still works
    const again = await startTestEngine({ dir, overrides: { admin: { password: '' } } });
    expect((await again.request('GET', '/v1.0/providers', { token: oldToken })).status).toBe(200);
    await again.close(true);
  });
});
