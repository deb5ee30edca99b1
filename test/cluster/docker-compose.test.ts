/**
 * docker-compose.yml is the production cluster (README "Production layout"); Docker cannot run
 * here, so its shape is checked as YAML: PostgreSQL and Redis shared by every outdial, each outdial
 * beside a drachtio-server of its own, SIP and admin ports that do not collide, and drachtio's
 * advertised SIP port the one it publishes. (src/config/load-config.test.ts checks that every
 * variable it sets is one the configuration accepts.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const outdials = Object.entries(services).filter(([name]) => name.startsWith('outdial'));
/** `${VAR:-default}` → default, as compose does with the variable unset */
const resolve = (v: string) => v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
const envOf = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, resolve(String(v))]));

describe('docker-compose.yml: the production cluster', () => {
  it('runs PostgreSQL 15 and Redis 7 with health checks', () => {
    expect(services.postgres?.image).toMatch(/^postgres:15/);
    expect(services.redis?.image).toMatch(/^redis:7/);
    expect(services.postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(services.redis?.healthcheck?.test.join(' ')).toContain('ping');
    expect(Object.keys(compose.volumes ?? {})).toContain('postgres-data');
  });

  it('runs two outdials, each beside a drachtio-server of its own', () => {
    expect(outdials.length).toBeGreaterThanOrEqual(2);
    const drachtios = outdials.map(([, s]) => envOf(s).OUTDIAL_DRACHTIO!.split(':')[0]!);
    expect(new Set(drachtios).size).toBe(outdials.length);
    for (const d of drachtios) expect(services[d]?.image).toBe('drachtio/drachtio-server:latest');
  });

  it('points every outdial at the same PostgreSQL and Redis, after they are healthy', () => {
    const urls = outdials.map(([, s]) => [envOf(s).OUTDIAL_DB_URL, envOf(s).OUTDIAL_REDIS_URL]);
    expect(new Set(urls.map((u) => JSON.stringify(u))).size).toBe(1);
    // one secret key for all: each seals and opens the secrets the others stored (docs/api.md §20)
    expect(new Set(outdials.map(([, s]) => s.environment?.OUTDIAL_SECRET_KEY)).size).toBe(1);
    expect(outdials[0]![1].environment?.OUTDIAL_SECRET_KEY).toBe('${OUTDIAL_SECRET_KEY:-}');
    const [db, redis] = urls[0]!;
    expect(new URL(db!).hostname).toBe('postgres');
    expect(new URL(db!).pathname).toBe(`/${services.postgres!.environment!.POSTGRES_DB}`);
    expect(new URL(redis!).hostname).toBe('redis');
    for (const [name, s] of outdials) {
      expect([name, s.depends_on?.postgres?.condition, s.depends_on?.redis?.condition]).toEqual([name, 'service_healthy', 'service_healthy']);
      expect(() => loadConfig(envOf(s))).not.toThrow();
      // The secret each outdial presents is its drachtio's.
      const drachtio = services[envOf(s).OUTDIAL_DRACHTIO!.split(':')[0]!]!;
      expect(resolve(String(drachtio.command))).toContain(`--secret "${envOf(s).OUTDIAL_DRACHTIO_SECRET}"`);
    }
  });

  it('publishes SIP and admin ports that do not collide, each drachtio advertising the port it publishes', () => {
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0] + (p.includes('/') ? p.slice(p.indexOf('/')) : '')));
    expect(new Set(published).size).toBe(published.length);
    for (const [, s] of outdials) {
      const drachtio = services[envOf(s).OUTDIAL_DRACHTIO!.split(':')[0]!]!;
      const port = /--contact "sip:\*:(\d+);/.exec(String(drachtio.command))?.[1];
      expect(drachtio.ports).toEqual([`${port}:${port}/udp`, `${port}:${port}/tcp`]);
      expect(s.healthcheck?.test.join(' ')).toContain('/healthz');
    }
  });
});
