/**
 * Where the secret key comes from (docs/api.md §20): `OUTDIAL_SECRET_KEY`, else a key file beside
 * the database (`OUTDIAL_SECRET_KEY_FILE`, default `<database file>.key`), created with mode 0600
 * on the first start. The database remembers the key's id, so a start with another key, or
 * without the key file of a database that holds sealed secrets, stops with a message saying
 * which, instead of creating a key that could not open them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StartupError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { SettingsStore } from '../store/store-types.ts';
import { SECRET_KEY_BYTES, SecretBox } from './secret-box.ts';

/** The settings key under which the database remembers which key sealed its secrets. */
export const KEY_ID_SETTING = 'secret_key_id';

export interface SecretKeySource {
  /** OUTDIAL_SECRET_KEY: 64 hex digits, or base64/base64url of 32 bytes; '' = the key file */
  readonly key: string;
  /** OUTDIAL_SECRET_KEY_FILE; '' = beside the database */
  readonly keyFile: string;
  /** OUTDIAL_DB_PATH (':memory:' has no file: its key lives as long as the process); the default key file is `<dbPath>.key` */
  readonly dbPath: string;
  /**
   * The database as messages name it, when it is not the file at dbPath (PostgreSQL: its
   * description, never its password); there every instance must use the same key.
   */
  readonly database?: string;
}

/** 32 bytes from 64 hex digits or base64 / base64url text; undefined for anything else. */
export function decodeSecretKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(t)) {
    const key = Buffer.from(t.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''), 'base64url');
    return key.length === SECRET_KEY_BYTES ? key : undefined;
  }
  return undefined;
}

export const SECRET_KEY_FORMAT = `${SECRET_KEY_BYTES} bytes written as 64 hex digits or as base64 (e.g. \`openssl rand -hex 32\`)`;

/** The key file this configuration uses; undefined when the key comes from OUTDIAL_SECRET_KEY or the database is in memory. */
export function keyFilePath(source: SecretKeySource): string | undefined {
  if (source.key !== '') return undefined;
  if (source.keyFile !== '') return source.keyFile;
  if (source.dbPath === ':memory:') return undefined;
  return `${source.dbPath}.key`;
}

/**
 * The SecretBox for this start: the configured key, checked against (or, on a fresh database,
 * recorded as) the key id the database holds.
 */
export async function openSecretBox(source: SecretKeySource, settings: SettingsStore, logger: Logger): Promise<SecretBox> {
  const storedId = await settings.get(KEY_ID_SETTING);
  const { key, origin } = loadKey(source, storedId, logger);
  const box = new SecretBox(key);
  const recorded = await settings.putIfAbsent(KEY_ID_SETTING, box.keyId);
  if (recorded !== box.keyId) {
    const shared = source.database !== undefined ? '; every instance sharing this database must start with the same OUTDIAL_SECRET_KEY' : '';
    throw new StartupError(
      `the secret key from ${origin} is not the key the secrets in ${source.database ?? source.dbPath} were sealed with ` +
        `(its key id is ${box.keyId}; the database expects ${recorded}); start with the original key ` +
        `(OUTDIAL_SECRET_KEY or the key file), or restore a backup made with this key${shared}`,
    );
  }
  return box;
}

function loadKey(source: SecretKeySource, storedId: string | undefined, logger: Logger): { key: Buffer; origin: string } {
  if (source.key !== '') {
    const key = decodeSecretKey(source.key);
    // load-config refuses a malformed OUTDIAL_SECRET_KEY already; a programmatic config may not.
    if (!key) throw new StartupError(`OUTDIAL_SECRET_KEY is not ${SECRET_KEY_FORMAT}`);
    return { key, origin: 'OUTDIAL_SECRET_KEY' };
  }
  const file = keyFilePath(source);
  if (file === undefined) return { key: randomBytes(SECRET_KEY_BYTES), origin: 'a key made for this in-memory database' };
  const existing = readKeyFile(file, logger);
  if (existing) return { key: existing, origin: `the key file ${file}` };
  if (storedId !== undefined) {
    throw new StartupError(
      `the secret key file ${file} does not exist, but ${source.database ?? source.dbPath} holds secrets sealed with a key (key id ${storedId}); ` +
        'restore the key file or set OUTDIAL_SECRET_KEY to that key. outdial does not make a new key here: it could not open those secrets',
    );
  }
  return { key: createKeyFile(file, logger), origin: `the key file ${file}` };
}

function readKeyFile(file: string, logger: Logger): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StartupError(`cannot read the secret key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const key = decodeSecretKey(text);
  if (!key) throw new StartupError(`the secret key file ${file} does not hold a key (${SECRET_KEY_FORMAT}); it is left as it is`);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) logger.warn({ file, mode: mode.toString(8) }, 'secret key file readable by others; chmod 600 it');
  return key;
}

/** A new key in a new file, owner-only; a file another process created meanwhile wins. */
function createKeyFile(file: string, logger: Logger): Buffer {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(SECRET_KEY_BYTES);
  try {
    writeFileSync(file, `${key.toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = readKeyFile(file, logger);
      if (theirs) return theirs;
    }
    throw new StartupError(`cannot create the secret key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  logger.info({ file }, 'secret key file created');
  return key;
}
