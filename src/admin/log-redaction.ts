/**
 * What of a request URL may reach a log line. Credentials travel in URLs (`?token=`,
 * `?accesskey=`), and a parameter name can be spelled many ways that the query parser decodes
 * to the same name (`?%74oken=`, `?to%6Ben=`). A list of names to hide would always miss one,
 * so this works the other way round: only values of the parameters below, and only when they
 * have the harmless shape those parameters have, are shown; every other value is
 * `[redacted]`. Path segments are shown when they are short plain words or ids (a UUID is 36
 * characters), never when they carry escapes or are long enough to be a token or a key.
 */

const SHOWN_PARAMETERS: ReadonlyMap<string, RegExp> = new Map([
  ['page_size', /^[0-9]{1,6}$/],
  ['page_token', /^[0-9T:. Z-]{1,40}$/],
  ['target', /^[+ ]?[0-9]{1,15}$/],
  ['customer_id', /^[0-9a-fA-F-]{36}$/],
]);

const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]{0,40}$/;
const REDACTED = '[redacted]';

function decodeComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

export function redactUrl(url: string): string {
  if (!url.startsWith('/')) return REDACTED;
  const hash = url.indexOf('#');
  const withoutFragment = hash < 0 ? url : url.slice(0, hash);
  const q = withoutFragment.indexOf('?');
  const path = q < 0 ? withoutFragment : withoutFragment.slice(0, q);
  const shownPath = path
    .split('/')
    .map((segment) => (PLAIN_SEGMENT.test(segment) ? segment : REDACTED))
    .join('/');
  if (q < 0) return shownPath;
  const pairs = withoutFragment
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
      if (name === undefined || !PLAIN_NAME.test(name)) return `${REDACTED}=${REDACTED}`;
      if (eq < 0) return name;
      const value = decodeComponent(pair.slice(eq + 1));
      const shape = SHOWN_PARAMETERS.get(name.toLowerCase());
      return `${name}=${value !== undefined && shape?.test(value) ? value : REDACTED}`;
    });
  return `${shownPath}?${pairs.join('&')}`;
}
