import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../src/repo-root.ts';

/**
 * Builds the admin console (docs/console.md, "How it is built"): console/src/main.tsx bundled by
 * esbuild with Preact, the CSS beside it, and index.html naming the content-hashed files. The
 * output is a flat folder that src/admin/console-endpoint.ts serves; it is never committed.
 */

// From the repository root, not this file: it also runs built, from dist/console/ (docs/performance.md §5).
const REPO = REPO_ROOT;
const HERE = join(REPO, 'console');
export const CONSOLE_SOURCE_DIR = join(HERE, 'src');
export const CONSOLE_DIST_DIR = join(HERE, 'dist');
/** Written last; lists what the build read, so a later start can tell the output is stale. */
export const BUILD_INFO_FILE = 'build-info.json';

export interface BuiltFile {
  name: string;
  contents: Uint8Array;
}

export interface BuildInfo {
  built_at_ms: number;
  /** every file the build read, relative to the repository. */
  inputs: string[];
  files: string[];
}

/** Builds in memory; returns index.html, the hashed bundles, their source maps and build-info.json. */
export async function buildConsole(): Promise<BuiltFile[]> {
  const { build } = await import('esbuild');
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: { console: join(CONSOLE_SOURCE_DIR, 'main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    outdir: CONSOLE_DIST_DIR,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const files: BuiltFile[] = result.outputFiles.map((f) => ({ name: basename(f.path), contents: f.contents }));
  const script = files.find((f) => f.name.endsWith('.js'))?.name;
  const style = files.find((f) => f.name.endsWith('.css'))?.name;
  if (!script || !style) throw new Error('console build produced no script or no stylesheet');
  const templatePath = join(CONSOLE_SOURCE_DIR, 'index.html');
  const html = readFileSync(templatePath, 'utf8').replace('%SCRIPT%', `/console/${script}`).replace('%STYLE%', `/console/${style}`);
  files.push({ name: 'index.html', contents: new TextEncoder().encode(html) });
  const inputs = [...Object.keys(result.metafile.inputs), relative(REPO, templatePath), relative(REPO, fileURLToPath(import.meta.url))];
  const info: BuildInfo = { built_at_ms: startedAt, inputs, files: files.map((f) => f.name) };
  files.push({ name: BUILD_INFO_FILE, contents: new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`) });
  return files;
}

/**
 * Writes the files into `dir`, each through a temporary name and a rename, so a server reading the
 * folder (or a second build running at once) never sees half a file. build-info.json comes last;
 * then the hashed files of earlier builds are removed.
 */
export function writeConsole(files: readonly BuiltFile[], dir = CONSOLE_DIST_DIR): void {
  mkdirSync(dir, { recursive: true });
  const ordered = [...files.filter((f) => f.name !== BUILD_INFO_FILE), ...files.filter((f) => f.name === BUILD_INFO_FILE)];
  for (const f of ordered) {
    const target = join(dir, f.name);
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, f.contents);
    renameSync(temporary, target);
  }
  const current = new Set(files.map((f) => f.name));
  for (const name of readdirSync(dir)) {
    if (name.startsWith('console-') && !name.endsWith('.tmp') && !current.has(name)) rmSync(join(dir, name), { force: true });
  }
}

/** True when build-info.json is missing or any input it lists changed (or vanished) since the build. */
export function isConsoleStale(dir = CONSOLE_DIST_DIR): boolean {
  let info: BuildInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, BUILD_INFO_FILE), 'utf8')) as BuildInfo;
  } catch {
    return true;
  }
  for (const input of info.inputs) {
    try {
      if (statSync(join(REPO, input)).mtimeMs > info.built_at_ms) return true;
    } catch {
      return true;
    }
  }
  return false;
}

// `npm run build:console`
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = await buildConsole();
  writeConsole(files);
  const bytes = files.reduce((n, f) => n + f.contents.byteLength, 0);
  process.stdout.write(`console: built ${files.length} files (${Math.round(bytes / 1024)} KiB) into ${relative(process.cwd(), CONSOLE_DIST_DIR) || '.'}\n`);
}
