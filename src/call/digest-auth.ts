/**
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760): reading a carrier's
 * WWW-Authenticate / Proxy-Authenticate challenges, choosing one, and computing the Authorization
 * for it. Only the math lives here; the retry (new CSeq, same Call-ID, same From tag, the request
 * sent again) is drachtio-srf's own, which srf-adapter.ts extends with this computation.
 */
import { createHash, randomBytes } from 'node:crypto';

/** RFC 7616 §6.1 / RFC 8760 §2: the algorithms a SIP digest may name, with their hash. */
const ALGORITHMS = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
} as const;

export type DigestAlgorithm = keyof typeof ALGORITHMS;
export type DigestQop = 'auth' | 'auth-int';

/** One challenge as received: its scheme and parameters (values unquoted). */
export interface RawChallenge {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

/** A Digest challenge this module can answer. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** the qop chosen from the server's list; undefined when it offered none (RFC 2069 style) */
  readonly qop: DigestQop | undefined;
  /** RFC 7616 §3.3: the nonce went stale; the credentials themselves were good */
  readonly stale: boolean;
  /** RFC 7616 §3.4.4: send the hashed user name */
  readonly userhash: boolean;
}

/**
 * Splits a challenge list (RFC 7235 §4.1: one header value may hold several challenges, and srf
 * joins repeated headers with commas) into challenges. Parameter values may be tokens or quoted
 * strings with backslash escapes; commas inside quotes do not split.
 */
export function parseChallenges(value: string): RawChallenge[] {
  const out: RawChallenge[] = [];
  let i = 0;
  let current: { scheme: string; params: Map<string, string> } | undefined;
  const n = value.length;
  const skipBlanks = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',' || value[i] === '\r' || value[i] === '\n')) i++;
  };
  for (;;) {
    skipBlanks();
    if (i >= n) break;
    const start = i;
    while (i < n && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(value[i]!)) i++;
    const word = value.slice(start, i);
    if (word === '') {
      i++; // a character no challenge can hold: skip it
      continue;
    }
    let j = i;
    while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
    if (value[j] !== '=') {
      // a token not followed by "=" starts a new challenge (its auth-scheme)
      current = { scheme: word, params: new Map() };
      out.push(current);
      continue;
    }
    i = j + 1;
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    let param = '';
    if (value[i] === '"') {
      i++;
      while (i < n && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < n) i++;
        param += value[i];
        i++;
      }
      i++; // the closing quote
    } else {
      const s = i;
      while (i < n && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') i++;
      param = value.slice(s, i);
    }
    current?.params.set(word.toLowerCase(), param);
  }
  return out;
}

function algorithmOf(name: string | undefined): DigestAlgorithm | undefined {
  // RFC 7616 §3.3: absent means MD5; the value is case-insensitive.
  if (name === undefined) return 'MD5';
  const found = (Object.keys(ALGORITHMS) as DigestAlgorithm[]).find((a) => a.toLowerCase() === name.toLowerCase());
  return found;
}

/** RFC 7616 §3.3: the client picks a qop the server offered; `auth` is preferred (it needs no body hash). */
function qopOf(offered: string | undefined): DigestQop | undefined | null {
  if (offered === undefined) return undefined;
  const list = offered.split(',').map((q) => q.trim().toLowerCase());
  if (list.includes('auth')) return 'auth';
  if (list.includes('auth-int')) return 'auth-int';
  return null; // only qops this client does not know
}

/**
 * The challenge to answer: the first Digest challenge, in the server's order, whose algorithm
 * and qop this client supports (RFC 7616 §3.7, RFC 8760 §2.4: servers list the preferred
 * algorithm first). Undefined when none can be answered.
 */
export function chooseChallenge(challenges: readonly RawChallenge[]): DigestChallenge | undefined {
  for (const c of challenges) {
    if (c.scheme.toLowerCase() !== 'digest') continue;
    const realm = c.params.get('realm');
    const nonce = c.params.get('nonce');
    const algorithm = algorithmOf(c.params.get('algorithm'));
    const qop = qopOf(c.params.get('qop'));
    if (realm === undefined || nonce === undefined || algorithm === undefined || qop === null) continue;
    return {
      realm,
      nonce,
      opaque: c.params.get('opaque'),
      algorithm,
      qop,
      stale: c.params.get('stale')?.toLowerCase() === 'true',
      userhash: c.params.get('userhash')?.toLowerCase() === 'true',
    };
  }
  return undefined;
}

export interface DigestInput {
  readonly challenge: DigestChallenge;
  readonly username: string;
  readonly password: string;
  readonly method: string;
  /** the digest-uri: the Request-URI of the request being authorized (RFC 3261 §22.4) */
  readonly uri: string;
  /** the message body, for qop=auth-int */
  readonly body?: string;
  /** client nonce; random when not given (tests pass the RFC's) */
  readonly cnonce?: string;
  /** nonce count (RFC 7616 §3.4); 1 for the first use of a nonce */
  readonly nc?: number;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(ALGORITHMS[algorithm]).update(text, 'utf8').digest('hex');
}

/** The eight-hex-digit nonce count (RFC 7616 §3.4). */
export function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

/** RFC 7616 §3.4.1 (response), §3.4.2 (A1, -sess), §3.4.3 (A2, auth-int), §3.4.4 (userhash). */
export function digestResponse(input: DigestInput & { cnonce: string; nc: number }): string {
  const { challenge: c, username, password, method, uri, cnonce } = input;
  const H = (text: string) => hash(c.algorithm, text);
  let ha1 = H(`${username}:${c.realm}:${password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = c.qop === 'auth-int' ? H(`${method}:${uri}:${H(input.body ?? '')}`) : H(`${method}:${uri}`);
  // RFC 7616 §3.4.1 with qop; without qop, the RFC 2069 form RFC 3261 §22.4 keeps for old servers.
  if (c.qop === undefined) return H(`${ha1}:${c.nonce}:${ha2}`);
  return H(`${ha1}:${c.nonce}:${formatNc(input.nc)}:${cnonce}:${c.qop}:${ha2}`);
}

/** The user name as sent: hashed with the realm when the server asked for userhash (RFC 7616 §3.4.4). */
export function digestUsername(challenge: DigestChallenge, username: string): string {
  return challenge.userhash ? hash(challenge.algorithm, `${username}:${challenge.realm}`) : username;
}

const quote = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * The Authorization / Proxy-Authorization value (RFC 3261 §22.4, RFC 7616 §3.4): parameters in
 * the order RFC 3261's examples use; qop, nc and algorithm as tokens, the rest quoted.
 */
export function authorizationValue(input: DigestInput): string {
  const c = input.challenge;
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const nc = input.nc ?? 1;
  const parts = [
    `username=${quote(digestUsername(c, input.username))}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(input.uri)}`,
    `response=${quote(digestResponse({ ...input, cnonce, nc }))}`,
    `algorithm=${c.algorithm}`,
  ];
  if (c.qop !== undefined) parts.push(`qop=${c.qop}`, `nc=${formatNc(nc)}`, `cnonce=${quote(cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
