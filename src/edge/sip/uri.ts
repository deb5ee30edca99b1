/** SIP / SIPS / tel URIs (RFC 3261 19.1, RFC 3966), parsed just far enough for routing. */
import { formatParams, parseHostPort, parseParams } from './params.ts';

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  /** user part, still %-escaped; for tel: URIs the number */
  user?: string;
  password?: string;
  /** host as written; IPv6 references keep their brackets. Empty for tel: URIs. */
  host: string;
  port?: number;
  params: Map<string, string | null>;
  /** the `?...` part without the `?` */
  headers?: string;
}

export function parseUri(uri: string): SipUri | undefined {
  try {
    return parseUriUnsafe(uri.trim());
  } catch {
    return undefined;
  }
}

function parseUriUnsafe(uri: string): SipUri | undefined {
  const colon = uri.indexOf(':');
  if (colon < 0) return undefined;
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (/[\s<>]/.test(rest) || rest === '') return undefined;
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number === '') return undefined;
    return { scheme, user: number, host: '', params: parseParams(semi < 0 ? '' : rest.slice(semi)) };
  }
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;

  let userinfo: string | undefined;
  let hostPart = rest;
  const at = rest.indexOf('@');
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
  }
  let headers: string | undefined;
  const q = hostPart.indexOf('?');
  if (q >= 0) {
    headers = hostPart.slice(q + 1);
    hostPart = hostPart.slice(0, q);
  }
  const semi = hostPart.indexOf(';');
  const paramText = semi < 0 ? '' : hostPart.slice(semi);
  const hp = parseHostPort(semi < 0 ? hostPart : hostPart.slice(0, semi));
  if (!hp) return undefined;

  const out: SipUri = { scheme, host: hp.host, params: parseParams(paramText) };
  if (hp.port !== undefined) out.port = hp.port;
  if (headers !== undefined) out.headers = headers;
  if (userinfo !== undefined) {
    const pc = userinfo.indexOf(':');
    const user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (user === '') return undefined;
    out.user = user;
    if (pc >= 0) out.password = userinfo.slice(pc + 1);
  }
  return out;
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.user ?? ''}${formatParams(u.params)}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  if (u.headers !== undefined) s += `?${u.headers}`;
  return s;
}
