import ipaddr from 'ipaddr.js';
import { ApiError } from '../errors.ts';
import { DIALOG_HEADERS } from '../routing/header-policy.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';

/**
 * Semantic checks of provider fields that a JSON schema cannot express (or express clearly):
 * each failure carries its own reason (docs/api.md §9, "Validation").
 */

/** RFC 3261 §25.1 hostname: labels of alphanum and inner hyphens; the top label is not numeric. */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export interface HostPort {
  host: string;
  port: number | undefined;
}

export function parseHostPort(text: string): HostPort | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
    const inner = host.slice(1, -1);
    if (inner.includes('%') || !ipaddr.IPv6.isValid(inner)) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (!isDnsNameOrIPv4(host)) return undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  return { host, port };
}

function isDnsNameOrIPv4(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (labels.every((l) => /^[0-9]+$/.test(l))) return labels.length === 4 && ipaddr.IPv4.isValidFourPartDecimal(host);
  if (!labels.every((l) => DNS_LABEL.test(l))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

export function validateHostname(hostname: string): string {
  if (parseHostPort(hostname) === undefined) throw new ApiError('INVALID_HOSTNAME', `hostname ${JSON.stringify(hostname)} is not a DNS name, IPv4 address or [IPv6] address with an optional :port (1..65535)`);
  return hostname;
}

const INTERNAL_HEADER_PREFIX = 'x-outdial-';

/**
 * Names the engine owns: the dialog headers the B2BUA writes (routing/header-policy.ts), in any
 * spelling or compact form; the configured customer header (the platform sets it, a provider must
 * not); and every X-Outdial-* header.
 */
export function isReservedHeader(name: string, customerHeader: string): boolean {
  const key = canonicalHeaderKey(name); // compact forms too: `v` is Via
  return DIALOG_HEADERS.has(key) || key === canonicalHeaderKey(customerHeader) || key.startsWith(INTERNAL_HEADER_PREFIX);
}

/** Syntax (token names, no CR/LF) is checked by the schema; this refuses reserved names. */
export function validateTechHeaders(headers: Record<string, string>, customerHeader: string): Record<string, string> {
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (isReservedHeader(name, customerHeader)) throw new ApiError('INVALID_TECH_HEADERS', `tech_headers must not set the reserved header ${name}`);
    if (/[\r\n\0]/.test(value)) throw new ApiError('INVALID_TECH_HEADERS', `the value of tech header ${name} contains a line break`);
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw new ApiError('INVALID_TECH_HEADERS', `tech header ${name} is given twice`);
    seen.add(lower);
  }
  // A fresh object from entries: a "__proto__" key stays a plain key, never a prototype.
  return Object.fromEntries(Object.entries(headers));
}

export const MAX_CODECS_LENGTH = 255;
const CODEC_NAME = /^[\x21-\x2b\x2d-\x7e]+$/; // visible ASCII, no comma, no space

/** "" or a comma list; returns the normalized form ("PCMU, PCMA" → "PCMU,PCMA"). */
export function normalizeCodecs(codecs: string): string {
  if (codecs.length > MAX_CODECS_LENGTH) throw new ApiError('INVALID_CODECS', `codecs is longer than ${MAX_CODECS_LENGTH} characters`);
  if (codecs.trim() === '') {
    if (codecs !== '') throw new ApiError('INVALID_CODECS', 'codecs must be "" or a list of codec names');
    return '';
  }
  const names = codecs.split(',').map((c) => c.trim());
  for (const name of names) {
    if (name === '') throw new ApiError('INVALID_CODECS', 'codecs has an empty element');
    if (!CODEC_NAME.test(name)) throw new ApiError('INVALID_CODECS', `codec name ${JSON.stringify(name)} has a space or an invalid character`);
  }
  return names.join(',');
}

/**
 * A digest user name (RFC 3261 §25.1 `username` is a quoted-string, and the REGISTER AOR puts it
 * in a URI user part, escaped): no blanks, quotes or backslashes, which some carriers and tools
 * mis-handle. Control characters were refused as unclean text already.
 */
export function validateAuthUsername(username: string): string {
  if (/[\s"\\]/.test(username)) throw new ApiError('INVALID_AUTH_USERNAME', 'auth_username must not contain blanks, quotes or backslashes');
  return username;
}
