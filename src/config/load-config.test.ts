import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from './config-schema.ts';
import { ConfigError, loadConfig } from './load-config.ts';

describe('loadConfig', () => {
  it('takes the defaults from config/default.json', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080, requestTimeoutMs: 10000 });
    expect(c.db).toEqual({ path: './data/outdial.db', busyTimeoutMs: 5000, url: '', poolSize: 10 });
    expect(c.redis).toEqual({ url: '' });
    expect(c.telnyx.apiUrl).toBe('https://api.telnyx.com/v2');
    expect(c.sip).toMatchObject({ host: '0.0.0.0', port: 5060, t1Ms: 500 });
    expect(c.edge).toMatchObject({ host: '127.0.0.1', port: 9022 });
  });

  it('lets environment variables override, with integers and lists converted', () => {
    const c = loadConfig({
      OUTDIAL_HTTP_PORT: '9000',
      OUTDIAL_TRUSTED_SOURCES: '10.0.0.0/8, 192.168.1.0/24',
      OUTDIAL_DRACHTIO: 'drachtio:9022',
    });
    expect(c.http.port).toBe(9000);
    expect(c.routing.trustedSources).toEqual(['10.0.0.0/8', '192.168.1.0/24']);
    expect(c.drachtio.address).toBe('drachtio:9022');
  });

  it('reads the edge TLS files and DNS servers', () => {
    const c = loadConfig({ OUTDIAL_SIP_TLS_PORT: '5071', OUTDIAL_SIP_TLS_CA: '/etc/outdial/ca.pem', OUTDIAL_DNS_SERVERS: '127.0.0.1:5353, [::1]:53,192.0.2.53' });
    expect(c.sip).toMatchObject({ tlsPort: 5071, tlsCert: '', tlsKey: '', tlsCa: '/etc/outdial/ca.pem', dnsServers: ['127.0.0.1:5353', '[::1]:53', '192.0.2.53'] });
    expect(() => loadConfig({ OUTDIAL_DNS_SERVERS: 'dns.example.com' })).toThrow(ConfigError);
  });

  it('reports every problem together', () => {
    let error: unknown;
    try {
      loadConfig({ OUTDIAL_HTTP_PORT: 'eighty', OUTDIAL_LOG_LEVEL: 'loud', OUTDIAL_SIP_PORT: '70000' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/OUTDIAL_HTTP_PORT/);
    expect(problems.join('\n')).toMatch(/log\/level/);
    expect(problems.join('\n')).toMatch(/sip\/port/);
  });

  it('returns a frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.routing.trustedSources)).toBe(true);
  });

  it.each([
    ['a token signing key shorter than 32 bytes', { OUTDIAL_JWT_SECRET: 'short-secret-31-bytes-long-xxxx' }, /OUTDIAL_JWT_SECRET .*31 bytes.*at least 32 bytes/],
    ['a multi-byte key counted in bytes', { OUTDIAL_JWT_SECRET: 'é'.repeat(15) }, /OUTDIAL_JWT_SECRET .*30 bytes/],
    ['a first-start password shorter than 12 characters', { OUTDIAL_ADMIN_PASSWORD: 'change-me' }, /OUTDIAL_ADMIN_PASSWORD .*9 characters.*at least 12/],
    ['a database URL of another kind', { OUTDIAL_DB_URL: 'mysql://app:db-pass-hunter2@db:3306/outdial' }, /OUTDIAL_DB_URL .*must start with postgres:\/\/ or postgresql:\/\/ \(got mysql:\/\/app@db:3306\/outdial\)/],
    ['a database URL that does not parse', { OUTDIAL_DB_URL: 'postgres://app:db-pass-hunter2@[bad/outdial' }, /OUTDIAL_DB_URL .*is not a URL/],
    ['a Redis URL of another kind', { OUTDIAL_REDIS_URL: 'http://:redis-pass-hunter2@cache:6379' }, /OUTDIAL_REDIS_URL .*must start with redis:\/\/ or rediss:\/\//],
  ])('refuses %s, naming the variable but not the value', (_label, env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    for (const value of Object.values(env)) expect((error as ConfigError).message).not.toContain(value);
    expect((error as ConfigError).message).not.toContain('hunter2');
  });

  it('takes PostgreSQL and Redis URLs', () => {
    const c = loadConfig({ OUTDIAL_DB_URL: 'postgresql://outdial:pw@10.0.0.5:5432/outdial', OUTDIAL_DB_POOL_SIZE: '4', OUTDIAL_REDIS_URL: 'redis://:pw@10.0.0.6:6379' });
    expect(c.db).toMatchObject({ url: 'postgresql://outdial:pw@10.0.0.5:5432/outdial', poolSize: 4 });
    expect(c.redis.url).toBe('redis://:pw@10.0.0.6:6379');
  });

  it('accepts a 32-byte key, a 12-character password, and empty ones (generated)', () => {
    expect(loadConfig({ OUTDIAL_JWT_SECRET: 'k'.repeat(32), OUTDIAL_ADMIN_PASSWORD: 'twelve chars' }).auth.jwtSecret).toHaveLength(32);
    expect(loadConfig({ OUTDIAL_JWT_SECRET: '', OUTDIAL_ADMIN_PASSWORD: '' }).admin.password).toBe('');
  });

  it('accepts overrides from code (tests, flags) over the environment', () => {
    const c = loadConfig({ OUTDIAL_HTTP_PORT: '9000' }, { http: { port: 0 } });
    expect(c.http.port).toBe(0);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const outdials = Object.entries(compose.services).filter(([name]) => name.startsWith('outdial'));

  it('sets only variables the config accepts', () => {
    const known = new Set(ENV_VARS.map((v) => v.name));
    expect(outdials.length).toBeGreaterThan(0);
    for (const [, service] of outdials) {
      const env = service.environment ?? {};
      expect(Object.keys(env).length).toBeGreaterThan(0);
      for (const name of Object.keys(env)) expect(known, name).toContain(name);
    }
  });

  it('connects each outdial to a drachtio-server service', () => {
    for (const [, service] of outdials) {
      const [host] = (service.environment?.['OUTDIAL_DRACHTIO'] ?? '').split(':');
      expect(Object.keys(compose.services)).toContain(host);
      expect(service.environment?.['OUTDIAL_DRACHTIO']).toBe(`${host}:9022`);
    }
  });

  it('produces a valid configuration when its defaults are applied', () => {
    for (const [, service] of outdials) {
      const resolved = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
      );
      expect(() => loadConfig(resolved)).not.toThrow();
    }
  });
});

describe('README.md', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('documents every environment variable the config accepts', () => {
    for (const v of ENV_VARS) expect(readme, v.name).toContain(`\`${v.name}\``);
  });
});
