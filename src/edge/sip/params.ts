/** `;name=value` parameter lists (RFC 3261 25.1 generic-param), shared by URIs, Via and name-addr. */

/**
 * Parses `;a=1;b;c="x;y"` (the leading `;` optional). Names are lower-cased; a parameter without
 * `=` maps to null. Quoted values keep their quotes so formatting gives back what was read.
 */
export function parseParams(s: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  eachParam(s, (name, value) => params.set(name, value));
  return params;
}

/**
 * `parseParams(s).get(name)` for a lower-case `name` (the last one of that name, as the map keeps),
 * without building the map: read for a From/To tag on every message.
 */
export function paramValue(s: string, name: string): string | null | undefined {
  let found: string | null | undefined;
  eachParam(s, (n, value) => {
    if (n === name) found = value;
  });
  return found;
}

/** Each parameter of `;a=1;b` in order: its lower-cased name, and its value (null without `=`). */
function eachParam(s: string, visit: (name: string, value: string | null) => void): void {
  eachOutsideQuotes(s, ';', (start, end) => {
    const p = s.slice(start, end).trim();
    if (p === '') return;
    const eq = p.indexOf('=');
    if (eq < 0) visit(p.toLowerCase(), null);
    else visit(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  });
}

export function formatParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

/** Splits on `sep` except inside double quotes (with backslash escapes). */
export function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  eachOutsideQuotes(s, sep, (start, end) => out.push(s.slice(start, end)));
  return out;
}

/** Calls `piece(start, end)` for each piece splitOutsideQuotes would give, without the array. */
function eachOutsideQuotes(s: string, sep: string, piece: (start: number, end: number) => void): void {
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      piece(start, i);
      start = i + 1;
    }
  }
  piece(start, s.length);
}

/**
 * Splits `host[:port]` where host may be a bracketed IPv6 reference (RFC 3261 25.1 hostport).
 * Returns undefined for an empty host or a port outside 1..65535.
 */
export function parseHostPort(s: string): { host: string; port?: number } | undefined {
  const t = s.trim();
  let host: string;
  let portText: string | undefined;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return undefined;
    host = t.slice(0, close + 1);
    const rest = t.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = t.indexOf(':');
    if (colon >= 0) {
      host = t.slice(0, colon);
      portText = t.slice(colon + 1);
    } else host = t;
  }
  if (host === '' || /[\s<>"]/.test(host)) return undefined;
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}
