/** Parsers for the structured header values the edge relies on (RFC 3261 20, 25.1). */
import { formatParams, paramValue, parseHostPort, parseParams } from './params.ts';

/** name-addr or addr-spec with header parameters (From, To, Contact, Route, Record-Route). */
export interface NameAddr {
  /** display name without surrounding quotes (escapes kept) */
  display?: string;
  uri: string;
  /** parameters after the `>` (or after the addr-spec), names lower-cased */
  params: Map<string, string | null>;
}

export function parseNameAddr(value: string): NameAddr | undefined {
  const parts = nameAddrPartsOf(value);
  if (parts === undefined) return undefined;
  const na: NameAddr = { uri: parts.uri, params: parseParams(parts.paramsText) };
  if (parts.display !== undefined) na.display = parts.display;
  return na;
}

/** Whether parseNameAddr reads `value`, without building its parameter map. */
export function isNameAddr(value: string): boolean {
  return nameAddrPartsOf(value) !== undefined;
}

/** The URI parseNameAddr reads from `value`, without building its parameter map. */
export function nameAddrUri(value: string): string | undefined {
  return nameAddrPartsOf(value)?.uri;
}

/** `parseNameAddr(value)?.params.get(name)` for a lower-case `name`, without building the map. */
export function nameAddrParam(value: string, name: string): string | null | undefined {
  const parts = nameAddrPartsOf(value);
  return parts === undefined ? undefined : paramValue(parts.paramsText, name);
}

function nameAddrPartsOf(value: string): NameAddrParts | undefined {
  try {
    return nameAddrParts(value.trim());
  } catch {
    return undefined;
  }
}

/** A name-addr cut into display name, URI and the text of its header parameters. */
interface NameAddrParts {
  display?: string;
  uri: string;
  /** `;a=1;b`, or '' */
  paramsText: string;
}

function nameAddrParts(v: string): NameAddrParts | undefined {
  if (v === '') return undefined;
  if (v === '*') return { uri: '*', paramsText: '' };
  let display: string | undefined;
  let rest = v;
  if (rest.startsWith('"')) {
    let i = 1;
    for (; i < rest.length; i++) {
      if (rest[i] === '\\') i++;
      else if (rest[i] === '"') break;
    }
    if (i >= rest.length) return undefined;
    display = rest.slice(1, i);
    rest = rest.slice(i + 1).trim();
    if (!rest.startsWith('<')) return undefined;
  }
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    const gt = rest.indexOf('>', lt);
    if (gt < 0) return undefined;
    if (display === undefined) {
      const d = rest.slice(0, lt).trim();
      if (d !== '') display = d;
    }
    const uri = rest.slice(lt + 1, gt).trim();
    if (uri === '' || !uri.includes(':')) return undefined;
    const after = rest.slice(gt + 1).trim();
    if (after !== '' && !after.startsWith(';')) return undefined;
    return display !== undefined ? { display, uri, paramsText: after } : { uri, paramsText: after };
  }
  // addr-spec: everything after the first ';' belongs to the header, not the URI (RFC 3261 20.10).
  const semi = rest.indexOf(';');
  const uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  if (uri === '' || !uri.includes(':') || /[\s>]/.test(uri)) return undefined;
  return { uri, paramsText: semi < 0 ? '' : rest.slice(semi) };
}

export function formatNameAddr(na: NameAddr): string {
  const display = na.display !== undefined && na.display !== '' ? `"${na.display}" ` : '';
  return `${display}<${na.uri}>${formatParams(na.params)}`;
}

/** From/To tag parameter, if any. */
export function tagOf(nameAddrValue: string | undefined): string | undefined {
  if (nameAddrValue === undefined) return undefined;
  const t = nameAddrParam(nameAddrValue, 'tag');
  return t === null || t === undefined || t === '' ? undefined : t;
}

export interface Via {
  /** upper-cased, e.g. UDP, TCP */
  transport: string;
  /** as written; IPv6 references keep their brackets */
  host: string;
  port?: number;
  params: Map<string, string | null>;
}

/** One Via value: `SIP/2.0/UDP host[:port][;params]`, LWS allowed around the slashes (RFC 3261 20.42). */
export function parseVia(value: string): Via | undefined {
  const parts = viaParts(value);
  if (parts === undefined) return undefined;
  const via: Via = { transport: parts.transport.toUpperCase(), host: parts.host, params: parseParams(parts.paramsText) };
  if (parts.port !== undefined) via.port = parts.port;
  return via;
}

/** Whether parseVia reads `value`, without building its parameter map. */
export function isVia(value: string): boolean {
  return viaParts(value) !== undefined;
}

/** `parseVia(value)?.params.get(name)` for a lower-case `name`, without building the map. */
export function viaParam(value: string, name: string): string | null | undefined {
  const parts = viaParts(value);
  return parts === undefined ? undefined : paramValue(parts.paramsText, name);
}

const VIA = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+([^;]+?)\s*(;.*)?$/i;

/** A Via value cut into transport (as written), sent-by and the text of its parameters. */
interface ViaParts {
  transport: string;
  host: string;
  port?: number;
  /** `;branch=…`, or '' */
  paramsText: string;
}

function viaParts(value: string): ViaParts | undefined {
  try {
    const m = VIA.exec(value);
    if (!m) return undefined;
    const hp = parseHostPort(m[2] ?? '');
    return hp ? { transport: m[1] ?? '', ...hp, paramsText: m[3] ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** RFC 3261 8.1.1.5: the sequence number is a 32-bit unsigned integer below 2**31. */
export function parseCSeq(value: string): CSeq | undefined {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(value);
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) return undefined;
  return { seq, method: m[2] ?? '' };
}
