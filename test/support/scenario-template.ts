import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SIPP_SCENARIO_DIR } from './sipp.ts';

/**
 * sipp reads status codes and pauses when it loads a scenario, before `-key` substitution, so
 * scenarios that vary in those carry `{{name}}` placeholders that are filled in here.
 * Returns the path of the rendered copy (in a fresh temp directory).
 */
export function renderScenario(name: string, values: Record<string, string>): string {
  let text = readFileSync(path.join(SIPP_SCENARIO_DIR, name), 'utf8');
  text = text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`scenario ${name} needs a value for {{${key}}}`);
    return v;
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'outdial-scenario-')), path.basename(name));
  writeFileSync(file, text);
  return file;
}
