import ipaddr from 'ipaddr.js';
import type { ProviderRecord } from './model.ts';

/**
 * Request-URI of one attempt (docs/routing.md §3):
 * `sip:<tech_prefix><+E164 number><tech_postfix>@<hostname>[;transport=tcp|tls]`, the number
 * without its `+` for a provider with `leading_plus: false`.
 */

// RFC 3261 §25: user = 1*( unreserved / escaped / user-unreserved )
//   unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
//   user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
const USER_SAFE = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]$/;
const ALL_USER_SAFE = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]*$/;
const encoder = new TextEncoder();

/** Escapes a SIP URI user part: everything outside the user alphabet becomes %XX of its UTF-8 bytes. */
export function escapeSipUser(user: string): string {
  if (ALL_USER_SAFE.test(user)) return user;
  let out = '';
  for (const ch of user) {
    if (USER_SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of encoder.encode(ch)) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * hostport for the URI. The admin API stores IPv6 literals bracketed (`[2001:db8::1]:5080`);
 * a bare IPv6 address is bracketed here too, since RFC 3261 §25 (IPv6reference) requires it.
 */
export function formatHostport(hostname: string): string {
  // A bare IPv6 literal has at least two colons; `host:port` (one colon) skips the parse.
  if (!hostname.startsWith('[') && hostname.indexOf(':') !== hostname.lastIndexOf(':') && ipaddr.IPv6.isValid(hostname)) {
    return `[${hostname}]`;
  }
  return hostname;
}

type UriFields = Pick<ProviderRecord, 'tech_prefix' | 'tech_postfix' | 'hostname'> & Partial<Pick<ProviderRecord, 'leading_plus' | 'transport'>>;

/** The number as this provider wants it: `+15551234567`, or `15551234567` with leading_plus false. */
export function providerNumber(provider: Partial<Pick<ProviderRecord, 'leading_plus'>>, number: string): string {
  return provider.leading_plus === false && number.startsWith('+') ? number.slice(1) : number;
}

/**
 * RFC 3261 §19.1.1: the transport parameter tells the stack how to reach the host (RFC 3263 §4.1);
 * UDP is the default and is not written.
 */
export function transportParam(provider: Partial<Pick<ProviderRecord, 'transport'>>): string {
  return provider.transport === 'tcp' || provider.transport === 'tls' ? `;transport=${provider.transport}` : '';
}

/** `sip:<user>@<hostport>` of an attempt, without URI parameters (its To, docs/routing.md §3). */
export function buildToUri(provider: UriFields, number: string): string {
  const user = escapeSipUser(provider.tech_prefix + providerNumber(provider, number) + provider.tech_postfix);
  return `sip:${user}@${formatHostport(provider.hostname)}`;
}

export function buildRequestUri(provider: UriFields, number: string): string {
  return buildToUri(provider, number) + transportParam(provider);
}
