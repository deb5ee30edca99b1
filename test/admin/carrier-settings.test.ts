import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { StartupError } from '../../src/errors.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { decodeSecretKey } from '../../src/secrets/secret-key.ts';
import { providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { sqliteDb } from './support/sqlite-db.ts';

/**
 * docs/api.md §9 "Carrier settings" and §20 "Secrets at rest", over the real API and real files.
 * Engines started without a `dir` use the run's store (SQLite, or PostgreSQL in the
 * admin-postgres project); those given a `dir` are SQLite files by construction.
 */
const PASSWORD = 'trunk password Z9!';
// the registrar may REGISTER these providers: only ever to a loopback port nobody answers on
const HOST = '127.0.0.1:9';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outdial-secrets-'));
  dirs.push(d);
  return d;
}

const mode = (path: string) => statSync(path).mode & 0o777;
/** The stored (sealed) password, read from the storage itself, on either store. */
const sealedOf = async (t: TestEngine, id: string) => (await t.db.rows('providers')).find((r) => r.id === id)!.auth_password_sealed as string;

describe('the password rule: write-only, and the GET → edit → PUT round trip keeps it', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('omitted keeps it, a string replaces it, "" and null remove it, an empty user name removes both', async () => {
    const created = await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: HOST, auth_username: 'u1', auth_password: PASSWORD }) });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ auth_username: 'u1', auth_password_set: true });
    expect(created.body).not.toHaveProperty('auth_password');
    expect(created.body).not.toHaveProperty('auth_password_sealed');
    const id = created.body.id as string;
    const sealed = await sealedOf(t, id);
    expect(sealed).toMatch(/^sb1\./);

    // the round trip: everything the GET returned, one field edited, sent back
    const got = (await t.request('GET', `/v1.0/providers/${id}`)).body;
    const kept = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...got, name: 'renamed', max_calls: 5 } });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ name: 'renamed', max_calls: 5, auth_username: 'u1', auth_password_set: true });
    expect(await sealedOf(t, id)).toBe(sealed);

    const replaced = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...got, auth_password: 'another one' } });
    expect(replaced.body.auth_password_set).toBe(true);
    expect(await sealedOf(t, id)).not.toBe(sealed);

    for (const clear of ['', null]) {
      await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...got, auth_password: 'set again' } });
      const cleared = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...got, auth_username: '', auth_password: clear } });
      expect(cleared.status, cleared.text).toBe(200);
      expect(cleared.body).toMatchObject({ auth_username: '', auth_password_set: false });
      expect(await sealedOf(t, id)).toBe('');
    }

    await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...got, auth_password: 'set again' } });
    // a seed-style body without the carrier fields: the user name goes, and the password with it
    const seedBody = await t.request('PUT', `/v1.0/providers/${id}`, { body: providerBody({ hostname: HOST }) });
    expect(seedBody.body).toMatchObject({ auth_username: '', auth_password_set: false });
    expect(await sealedOf(t, id)).toBe('');
  });

  it('registration state follows register; a hostname or transport change resets health', async () => {
    const created = await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: HOST, auth_username: 'u2', auth_password: PASSWORD, register: true, register_expires: 120 }) });
    expect(created.body).toMatchObject({ register: true, register_expires: 120, registration_status: 'registering', registration_checked_at: null });
    const id = created.body.id as string;
    const off = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...created.body, register: false } });
    expect(off.body).toMatchObject({ register: false, registration_status: 'off', registration_checked_at: null, auth_password_set: true });

    await t.engine.store.providers.setHealth(id, 'healthy', '2026-01-01T00:00:00.000000Z');
    const renamed = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...off.body, name: 'x' } });
    expect(renamed.body.health_status).toBe('healthy');
    const tcp = await t.request('PUT', `/v1.0/providers/${id}`, { body: { ...off.body, transport: 'tcp' } });
    expect(tcp.body).toMatchObject({ transport: 'tcp', health_status: 'unknown', health_checked_at: null });
  });

  it('the settings come back as set, and the preview builds the Request-URI from them', async () => {
    const created = await t.request('POST', '/v1.0/providers', {
      body: providerBody({ hostname: 'carrier.example.com:5080', tech_prefix: '9', leading_plus: false, transport: 'tls', max_calls: 3, max_cps: 2.5 }),
    });
    expect(created.body).toMatchObject({ leading_plus: false, transport: 'tls', max_calls: 3, max_cps: 2.5, register: false, auth_password_set: false });
    await t.request('POST', '/v1.0/routes', { body: { customer_id: '00000000-0000-0000-0000-000000000001', provider_id: created.body.id, priority: 1, target: '+1555' } });
    const preview = await t.request('GET', '/v1.0/dialroutes?target=%2B15551234567');
    expect(preview.body.result[0]).toMatchObject({
      request_uri: 'sip:915551234567@carrier.example.com:5080;transport=tls',
      current_calls: 0,
      provider: { id: created.body.id, transport: 'tls', auth_password_set: false },
    });
  });
});

describe('secrets at rest (docs/api.md §20)', () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.close(true);
    t = undefined;
  });

  it('creates the directory 0700, the database, -wal, -shm and key file 0600; the password is only sealed in them', async () => {
    const base = tempDir();
    const dir = join(base, 'new', 'data');
    t = await startTestEngine({ dir });
    const id = (await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: HOST, auth_username: 'u', auth_password: PASSWORD }) })).body.id as string;
    expect(mode(dir)).toBe(0o700);
    for (const f of [t.dbPath, `${t.dbPath}-wal`, `${t.dbPath}-shm`, `${t.dbPath}.key`]) expect(mode(f), f).toBe(0o600);
    const key = decodeSecretKey(readFileSync(`${t.dbPath}.key`, 'utf8'))!;
    expect(key).toHaveLength(32);
    for (const f of [t.dbPath, `${t.dbPath}-wal`]) expect(readFileSync(f).includes(Buffer.from(PASSWORD)), f).toBe(false);
    // what is stored opens, with the key from the file, to the password
    expect(new SecretBox(key).open(await sealedOf(t, id), 'auth_password')).toBe(PASSWORD);
    // the signing key is sealed too
    const settings = sqliteDb(t.engine.store).prepare('SELECT key, value FROM settings ORDER BY key').all() as Array<{ key: string; value: string }>;
    expect(settings.map((s) => s.key)).toEqual(['jwt_secret_sealed', 'secret_key_id']);
    expect(settings[0]!.value).toMatch(/^sb1\./);
    await t.close(true);
    t = undefined;

    // the next start opens them with the same key file
    t = await startTestEngine({ dir });
    expect((await t.request('GET', `/v1.0/providers/${id}`)).body.auth_password_set).toBe(true);
  });

  it('refuses to start with another key, without the key file, or with a key file that holds no key, naming what is wrong', async () => {
    const dir = tempDir();
    t = await startTestEngine({ dir });
    await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: HOST, auth_username: 'u', auth_password: PASSWORD }) });
    const keyFile = `${t.dbPath}.key`;
    const original = readFileSync(keyFile, 'utf8');
    await t.close(true);
    t = undefined;
    const refused = async (overrides = {}) => {
      const err = await startTestEngine({ dir, overrides }).then(
        async (e) => {
          await e.close(true);
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      return (err as Error).message;
    };

    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    expect(await refused()).toMatch(/the secret key from the key file .*outdial\.db\.key is not the key the secrets in .* were sealed with \(its key id is [0-9a-f]{16}; the database expects [0-9a-f]{16}\)/);
    expect(await refused({ secrets: { key: randomBytes(32).toString('base64') } })).toMatch(/the secret key from OUTDIAL_SECRET_KEY is not the key/);
    writeFileSync(keyFile, 'not a key\n');
    expect(await refused()).toMatch(/the secret key file .*outdial\.db\.key does not hold a key/);
    unlinkSync(keyFile);
    expect(await refused()).toMatch(/the secret key file .*outdial\.db\.key does not exist, but .* holds secrets sealed with a key \(key id [0-9a-f]{16}\)/);
    expect(existsSync(keyFile)).toBe(false); // no new key was made

    writeFileSync(keyFile, original, { mode: 0o600 });
    t = await startTestEngine({ dir });
    // OUTDIAL_SECRET_KEY with the same key works too, and no key file is needed then
    await t.close(true);
    t = undefined;
    unlinkSync(keyFile);
    t = await startTestEngine({ dir, overrides: { secrets: { key: original.trim() } } });
    expect(existsSync(keyFile)).toBe(false);
  });

  it('on this store (SQLite or PostgreSQL): the password and the token signing key are stored only sealed, with the key beside OUTDIAL_DB_PATH', async () => {
    t = await startTestEngine();
    const id = (await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: HOST, auth_username: 'u', auth_password: PASSWORD }) })).body.id as string;
    await t.login(); // the signing key is in use
    const key = decodeSecretKey(readFileSync(`${t.dbPath}.key`, 'utf8'))!;
    expect(mode(`${t.dbPath}.key`)).toBe(0o600);
    const box = new SecretBox(key);
    expect(box.open(await sealedOf(t, id), 'auth_password')).toBe(PASSWORD);
    const settings = t.engine.store.settings;
    expect(await settings.get('secret_key_id')).toBe(box.keyId);
    expect(await settings.get('jwt_secret')).toBeUndefined(); // where versions before encryption kept it in clear
    const sealedKey = (await settings.get('jwt_secret_sealed'))!;
    expect(sealedKey).toMatch(/^sb1\./);
    const signingKey = box.open(sealedKey, 'jwt_secret');
    expect(signingKey.length).toBeGreaterThanOrEqual(32);
    for (const clear of [PASSWORD, signingKey]) expect(await t.db.onDisk(Buffer.from(clear)), `${t.db.kind}: ${clear === PASSWORD ? 'password' : 'signing key'} in clear`).toBe(false);
  });

  it('a malformed OUTDIAL_SECRET_KEY is a configuration error that names it and does not show it', () => {
    let err: unknown;
    try {
      loadConfig({ OUTDIAL_SECRET_KEY: 'my secret key 123' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/OUTDIAL_SECRET_KEY \(secrets\.key\) is not 32 bytes written as 64 hex digits or as base64/);
    expect(String(err)).not.toContain('my secret key 123');
  });
});
