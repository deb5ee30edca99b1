/**
 * The repository (or image) root: the nearest directory above this module holding package.json.
 * Files outside the code (config/, console/) are found from here, so the same code runs from
 * src/ through tsx and from dist/src/ after `npm run build` (docs/performance.md §5).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${start}`);
    dir = up;
  }
}

export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
