/**
 * Faster equivalents of three functions drachtio-srf runs for every message (docs/performance.md
 * §12). srf parses every frame the edge hands it, and the echo of every message it sends, with
 * `parseSipMessage(text, true)` (lib/sip-parser/parser.js: a regex split of the head and a regex
 * match per header line), and every `get` / `has` of a header walks `Object.keys(headers)` with a
 * new closure (lib/sip-parser/message.js). The functions here return exactly what srf's do; the
 * srf adapter installs them (`installSrfParserShortcuts`) only over the srf sources they were
 * checked against, and each falls back to srf's own function for anything it does not handle
 * itself (folded header lines, multipart bodies, a header name that is also a property of every
 * object), so what srf sees never differs, only what it costs.
 *
 * Pure functions: no srf import here; the adapter passes srf's own pieces in.
 */

/** What srf's lazy parse yields (lib/sip-parser/parser.js parseMessage with lazy = true). */
export interface SrfLazyMessage {
  version?: string;
  status?: number;
  reason?: string;
  method?: string;
  uri?: string;
  headers: Record<string, string>;
  body: string | undefined;
  payload: Array<{ type: string | undefined; content: string | undefined }>;
}

/** srf's start-line expressions (parser.js parseResponse, parseRequest), tried in srf's order. */
const RESPONSE_LINE = /^SIP\/(\d+\.\d+)\s+(\d+)\s*(.*)\s*$/;
const REQUEST_LINE = /^([\w\-.!%*_+`'~]+)\s([^\s]+)\sSIP\s*\/\s*(\d+\.\d+)/;

/** The characters `\s` matches in a JavaScript regular expression. */
function isRegexSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * The name and value srf's `/^([\S]*?)\s*:\s*([\s\S]*)$/` takes from a header line, or undefined
 * where that expression does not match (srf then gives up on the message).
 */
export function splitHeaderLine(line: string): { name: string; value: string } | undefined {
  const n = line.length;
  let i = 0;
  // the shortest run of non-space characters followed by optional spaces and a colon
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x3a || isRegexSpace(c)) break;
    i++;
  }
  if (i === n) return undefined;
  const name = line.slice(0, i);
  let j = i;
  while (j < n && isRegexSpace(line.charCodeAt(j))) j++;
  if (j === n || line.charCodeAt(j) !== 0x3a) return undefined;
  j++;
  while (j < n && isRegexSpace(line.charCodeAt(j))) j++;
  return { name, value: line.slice(j) };
}

/**
 * srf's `parseSipMessage(text, true)`, without its regex per line. `original` is srf's own
 * function, used for what this one leaves to it; `headerName` is srf's `getHeaderName`.
 */
export function lazyParseSipMessage(
  text: string,
  headerName: (raw: string) => string,
  original: (text: string, lazy: boolean) => SrfLazyMessage | undefined,
): SrfLazyMessage | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  // srf splits the head at CRLFs not followed by SP or HTAB: folded lines are srf's to join
  if (head.includes('\r\n ') || head.includes('\r\n\t')) return original(text, true);
  const lines = head.split('\r\n');
  if (lines[0] === '') return undefined;
  const m: Partial<SrfLazyMessage> = {};
  const start = lines[0]!;
  const res = RESPONSE_LINE.exec(start);
  if (res) {
    m.version = res[1];
    m.status = +res[2]!;
    m.reason = res[3];
  } else {
    const req = REQUEST_LINE.exec(start);
    if (!req) return undefined;
    m.method = unescape(req[1]!);
    m.uri = req[2];
    m.version = req[3];
  }
  const headers: Record<string, string> = {};
  m.headers = headers;
  for (let i = 1; i < lines.length; i++) {
    const h = splitHeaderLine(lines[i]!);
    if (h === undefined) return undefined;
    const name = headerName(h.name);
    // srf tests `name in headers`, which a name like "constructor" meets on every object
    if (name in Object.prototype) return original(text, true);
    const prev = headers[name];
    headers[name] = prev === undefined ? h.value : `${prev},${h.value}`;
  }
  // the rest of srf's parseMessage: the text after the first blank line, as srf cuts it
  const length = headers['content-length'];
  const contentType = headers['content-type'];
  if (headEnd >= 0 && contentType && contentType.includes('multipart/')) {
    // a second blank line could start a multipart body: srf's own code splits those
    if (text.indexOf('\r\n\r\n', headEnd + 4) >= 0) return original(text, true);
  }
  let body: string | undefined;
  if (length) {
    const rest = headEnd < 0 ? '' : text.slice(headEnd + 4);
    body = rest.substring(0, Math.max(0, Math.min(length as unknown as number, Buffer.byteLength(rest, 'utf8'))));
  } else if (headEnd >= 0) {
    const next = text.indexOf('\r\n\r\n', headEnd + 4);
    body = next < 0 ? text.slice(headEnd + 4) : text.slice(headEnd + 4, next);
  }
  m.body = body;
  m.payload = [{ type: contentType, content: body }];
  return m as SrfLazyMessage;
}

/**
 * srf's SipMessage#getHeaderName (the first header key equal to `hdr` ignoring case), without
 * `Object.keys`, a closure, or a lower-cased copy of every key per call: `toLowerCase` allocates a
 * new string even when nothing changes, and srf asks `get` / `has` many times a message.
 */
export function firstHeaderKey(headers: Record<string, unknown>, hdr: string): string | undefined {
  for (const key in headers) {
    if (!Object.hasOwn(headers, key)) continue;
    if (key === hdr || sameIgnoringCase(key, hdr)) return key;
  }
  return undefined;
}

/**
 * `a.toLowerCase() === b.toLowerCase()`, compared in place while both are ASCII (where lower-casing
 * maps A-Z only and keeps the length); anything else is left to `toLowerCase` itself.
 */
export function sameIgnoringCase(a: string, b: string): boolean {
  const n = a.length;
  let i = 0;
  if (n === b.length) {
    for (; i < n; i++) {
      let x = a.charCodeAt(i);
      let y = b.charCodeAt(i);
      if (x === y) {
        if (x > 0x7f) break;
        continue;
      }
      if (x > 0x7f || y > 0x7f) break;
      if (x >= 0x41 && x <= 0x5a) x += 0x20;
      if (y >= 0x41 && y <= 0x5a) y += 0x20;
      if (x !== y) return false;
    }
    if (i === n) return true;
  } else if (isAscii(a) && isAscii(b)) {
    return false;
  }
  return a.toLowerCase() === b.toLowerCase();
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * srf's parser `getHeaderName` remembered per name: it depends only on the name and on
 * `DRACHTIO_PRESERVE_HEADER_NAMES`, so the memory is dropped when that variable changes, and when
 * it holds `limit` names (names come from the network).
 */
export function rememberedHeaderName(headerName: (raw: string) => string, env: NodeJS.ProcessEnv, limit = 1024): (raw: string) => string {
  let names = new Map<string, string>();
  let preserved = env.DRACHTIO_PRESERVE_HEADER_NAMES;
  return (raw) => {
    const now = env.DRACHTIO_PRESERVE_HEADER_NAMES;
    if (now !== preserved) {
      preserved = now;
      names = new Map();
    }
    let name = names.get(raw);
    if (name === undefined) {
      name = headerName(raw);
      if (names.size >= limit) names = new Map();
      names.set(raw, name);
    }
    return name;
  };
}
