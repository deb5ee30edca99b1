import { describe, expect, it } from 'vitest';
import { cachedEnvironment } from './srf-environment.ts';

/** A stand-in for the real environment, which keeps strings only, as process.env does. */
function realLike(init: Record<string, string>): NodeJS.ProcessEnv {
  const store: Record<string, string> = { ...init };
  return new Proxy(store, {
    set(t, k, v) {
      t[k as string] = String(v);
      return true;
    },
  }) as NodeJS.ProcessEnv;
}

describe('cachedEnvironment (srf reads process.env per header)', () => {
  it('reads what the environment held, and its keys', () => {
    const real = realLike({ A: '1', PATH: '/bin' });
    const env = cachedEnvironment(real);
    expect(env.A).toBe('1');
    expect(env.MISSING).toBeUndefined();
    expect(Object.keys(env).sort()).toEqual(['A', 'PATH']);
    expect({ ...env }).toEqual({ A: '1', PATH: '/bin' });
  });

  it('passes writes and deletes on to the real environment, as strings', () => {
    const real = realLike({ A: '1' });
    const env = cachedEnvironment(real);
    env.B = 42 as unknown as string;
    expect(real.B).toBe('42');
    expect(env.B).toBe('42');
    delete env.A;
    expect('A' in real).toBe(false);
    expect(env.A).toBeUndefined();
    Object.assign(env, { C: 'c' });
    expect(real.C).toBe('c');
    expect(env.C).toBe('c');
  });

  it('works over the real process.env: a child process sees a variable written through it', async () => {
    const env = cachedEnvironment(process.env);
    env.OUTDIAL_ENV_CACHE_PROBE = 'seen';
    try {
      const { execFileSync } = await import('node:child_process');
      // no env option: node hands the child the real process.env, which the write must have reached
      const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.OUTDIAL_ENV_CACHE_PROBE ?? "missing")'], { encoding: 'utf8', timeout: 10_000 });
      expect(out).toBe('seen');
    } finally {
      delete env.OUTDIAL_ENV_CACHE_PROBE;
    }
    expect(process.env.OUTDIAL_ENV_CACHE_PROBE).toBeUndefined();
  });
});
