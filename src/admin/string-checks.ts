/**
 * Every string a client sends (names, details, tech header values, passwords, keys; object keys
 * too) must be clean text: no control characters (C0, DEL, C1), no lone UTF-16 surrogates (JSON
 * `\ud800` escapes), and no U+FFFD, which is what invalid UTF-8 in the body decodes to. Such
 * text breaks SIP headers and log lines and never belongs in carrier configuration. The answer
 * names the field but never repeats the value (it may be a password).
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** With the u flag a character class matches a surrogate only when it is unpaired. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const REPLACEMENT = '\ufffd';

export interface StringProblem {
  /** `body.tech_headers.X-Trunk`, `body.items[2]` */
  path: string;
  /** The top-level body field it is in, for the field's own error reason. */
  field: string;
  problem: string;
}

function problemOf(text: string): string | undefined {
  const control = CONTROL.exec(text);
  if (control) return `contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate';
  if (text.includes(REPLACEMENT)) return 'contains invalid UTF-8 (or U+FFFD)';
  return undefined;
}

/** The first bad string in a parsed JSON body; iterative, so any nesting depth is safe. */
export function findBadString(body: unknown, root = 'body'): StringProblem | undefined {
  const stack: Array<{ value: unknown; path: string; field: string }> = [{ value: body, path: root, field: '' }];
  while (stack.length > 0) {
    const { value, path, field } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = problemOf(value);
      if (problem) return { path, field, problem };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, field });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const keyProblem = problemOf(key);
        const childField = field === '' ? key : field;
        if (keyProblem) return { path: `${path} key`, field: childField, problem: `has a key that ${keyProblem}` };
        stack.push({ value: child, path: `${path}.${key}`, field: childField });
      }
    }
  }
  return undefined;
}

/** Trims the string at a dotted path in place (a pasted API key's blanks and line breaks). */
export function trimAt(body: unknown, dotted: string): void {
  const keys = dotted.split('.');
  let node: unknown = body;
  for (const key of keys.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const last = keys[keys.length - 1]!;
  const target = node as Record<string, unknown>;
  if (Object.hasOwn(target, last) && typeof target[last] === 'string') target[last] = target[last].trim();
}
