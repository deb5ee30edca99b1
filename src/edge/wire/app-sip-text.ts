/**
 * Reads the SIP message an application puts after the first line of a `sip` command. It is
 * deliberately lenient: srf leaves out Via (the edge adds it), writes header names in lower case,
 * joins repeated headers with commas and computes Content-Length in UTF-16 units, so the body is
 * simply everything after the blank line.
 */
import type { SipHeader, SipMessage } from '../sip/message.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';

const CANONICAL_NAMES: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rseq: 'RSeq',
  rack: 'RAck',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
};

const NAME_CACHE_LIMIT = 1024;
const nameCache = new Map<string, string>();

/** `content-type` → `Content-Type`; X- and other mixed-case names the app chose are kept. */
export function canonicalHeaderName(name: string): string {
  // srf writes the same few names on every message; the bound keeps an app's endless new names
  // from growing the cache (as canonicalHeaderKey's, src/sip/header-names.ts)
  let known = nameCache.get(name);
  if (known !== undefined) return known;
  known = spellHeaderName(name);
  if (nameCache.size < NAME_CACHE_LIMIT) nameCache.set(name, known);
  return known;
}

function spellHeaderName(name: string): string {
  const key = canonicalHeaderKey(name);
  const known = CANONICAL_NAMES[key];
  if (known) return known;
  if (name !== name.toLowerCase() && name.length > 1) return name;
  return key.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

export function parseAppSip(text: string): SipMessage | undefined {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep === -1 ? text : text.slice(0, sep);
  const body = sep === -1 ? '' : text.slice(sep + 4);
  const lines = head.split('\r\n');
  const first = lines[0]!.trim();
  const headers: SipHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push({ name: canonicalHeaderName(line.slice(0, colon).trim()), value: line.slice(colon + 1).trim() });
  }
  const bodyBuf = Buffer.from(body, 'utf8');
  const res = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(first);
  if (res) return { kind: 'response', status: Number(res[1]), reason: res[2] ?? '', headers, body: bodyBuf };
  const req = /^([A-Za-z]+)\s+(\S+)\s+SIP\/2\.0$/i.exec(first);
  if (req) return { kind: 'request', method: (req[1] ?? '').toUpperCase(), uri: req[2] ?? '', headers, body: bodyBuf };
  return undefined;
}
