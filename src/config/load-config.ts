import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { decodeSecretKey, SECRET_KEY_FORMAT } from '../secrets/secret-key.ts';
import { ConfigSchema, ENV_VARS, type Config } from './config-schema.ts';
import { serviceUrlProblems } from './service-url.ts';
import { REPO_ROOT } from '../repo-root.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_FILE = join(REPO_ROOT, 'config', 'default.json');

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
    return out;
  }
  return over;
}

/**
 * default.json ← environment ← overrides (tests, CLI flags); validated once, all problems
 * reported together, then frozen.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: DeepPartial<Config> = {},
): Readonly<Config> {
  const problems: string[] = [];
  const raw = JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Record<string, unknown>;
  for (const v of ENV_VARS) {
    const text = env[v.name];
    if (text === undefined) continue;
    if (v.kind === 'int') {
      if (!/^-?\d+$/.test(text.trim())) {
        problems.push(`${v.name}: expected an integer, got ${JSON.stringify(text)}`);
        continue;
      }
      setPath(raw, v.path, Number(text.trim()));
    } else if (v.kind === 'list') {
      setPath(raw, v.path, text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    } else {
      setPath(raw, v.path, text);
    }
  }
  const merged = merge(raw, overrides);
  for (const e of Value.Errors(ConfigSchema, merged)) {
    problems.push(`${e.path || '/'}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`);
  }
  if (problems.length === 0) problems.push(...secretProblems(merged as Config), ...urlProblems(merged as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(merged as Config);
}

export const MIN_JWT_SECRET_BYTES = 32;
export const MIN_ADMIN_PASSWORD_CHARS = 12;

/**
 * Weak secrets are refused before anything starts: an HS256 key shorter than its 32-byte hash
 * output can be brute-forced offline from any token (RFC 7518 §3.2 requires a key of at least
 * the hash size), and the first-start password guards every provider and route. The values
 * themselves never appear in the message.
 */
function secretProblems(config: Config): string[] {
  const problems: string[] = [];
  const secretBytes = Buffer.byteLength(config.auth.jwtSecret, 'utf8');
  if (secretBytes > 0 && secretBytes < MIN_JWT_SECRET_BYTES) {
    problems.push(
      `OUTDIAL_JWT_SECRET (auth.jwtSecret) is ${secretBytes} bytes; it must be at least ${MIN_JWT_SECRET_BYTES} bytes ` +
        '(e.g. `openssl rand -base64 48`), or empty to let outdial generate and keep one',
    );
  }
  if (config.secrets.key !== '' && !decodeSecretKey(config.secrets.key)) {
    problems.push(`OUTDIAL_SECRET_KEY (secrets.key) is not ${SECRET_KEY_FORMAT}, or empty to keep the key in a key file`);
  }
  if (config.register.retryMaxMs < config.register.retryMs) {
    problems.push('OUTDIAL_REGISTER_RETRY_MAX_MS (register.retryMaxMs) must not be below OUTDIAL_REGISTER_RETRY_MS (register.retryMs)');
  }
  const passwordChars = [...config.admin.password].length;
  if (passwordChars > 0 && passwordChars < MIN_ADMIN_PASSWORD_CHARS) {
    problems.push(
      `OUTDIAL_ADMIN_PASSWORD (admin.password) is ${passwordChars} characters; it must be at least ${MIN_ADMIN_PASSWORD_CHARS}, ` +
        'or empty to have a random one generated and printed once',
    );
  }
  return problems;
}

/** The service URLs are checked here rather than by a schema pattern: a schema error would print the value, password and all. */
function urlProblems(config: Config): string[] {
  return [
    ...serviceUrlProblems('OUTDIAL_DB_URL (db.url)', config.db.url, ['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/database'),
    ...serviceUrlProblems('OUTDIAL_REDIS_URL (redis.url)', config.redis.url, ['redis:', 'rediss:'], 'redis://:password@host:6379'),
  ];
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
