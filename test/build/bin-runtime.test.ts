import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('bin/outdial runs the build or the sources (docs/performance.md §5)', () => {
  it('runs from dist/ (built JavaScript, no test files in it) and from src/ through tsx', { timeout: 120_000 }, async () => {
    // `npm test` builds first; a bare `vitest run` may not have
    if (!existsSync(path.join(ROOT, 'dist', '.build-stamp'))) await run('npm', ['run', 'build:dist'], { cwd: ROOT });
    const built = files(path.join(ROOT, 'dist'));
    expect(built.some((f) => f.endsWith(path.join('dist', 'src', 'cli.js')))).toBe(true);
    expect(built.filter((f) => /\.test\.|[\\/]test[\\/]/.test(f))).toEqual([]);
    expect(built.filter((f) => f.endsWith('.ts'))).toEqual([]);
    for (const from of ['dist', 'src']) {
      const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin', 'outdial'), 'help'], { cwd: ROOT, env: { ...process.env, OUTDIAL_RUN_FROM: from } });
      expect(stdout).toContain('usage: outdial <command>');
    }
  });
});
