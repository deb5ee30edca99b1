/**
 * The 49 torture messages of RFC 4475 (the files beside this one are the .dat files of the
 * tarball the RFC carries in base64, byte for byte), each with the verdict the edge must reach and the RFC section that asks for it.
 * Where the RFC allows either answer ("it is acceptable to reject"), the choice made is the one
 * docs/edge-transport.md §5 explains.
 *
 * app       valid: the edge hands it to the application, which answers (200, or 488 for INVITE)
 * status    the edge answers with that status itself (400/505 on syntax, 416/420/481 on meaning);
 *           the application never sees the request
 * unrouted  valid, of a method no application routes: the edge's answer for that (not a 4xx verdict on syntax)
 * drop      a response (or a datagram nobody can be answered for): nothing is sent back
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Verdict = { kind: 'app' } | { kind: 'status'; status: number } | { kind: 'unrouted' } | { kind: 'drop' };

export interface TortureMessage {
  file: string;
  section: string;
  verdict: Verdict;
  /** the Call-ID the application sees, when it sees the message */
  callId?: string;
}

const app: Verdict = { kind: 'app' };
const drop: Verdict = { kind: 'drop' };
const unrouted: Verdict = { kind: 'unrouted' };
const status = (s: number): Verdict => ({ kind: 'status', status: s });

export const RFC4475: readonly TortureMessage[] = [
  // 3.1.1 valid messages
  // well formed, but its To tag names a dialog the edge does not have (RFC 3261 12.2.2): 481
  { file: 'wsinv', section: '3.1.1.1', verdict: status(481) },
  { file: 'intmeth', section: '3.1.1.2', verdict: unrouted },
  { file: 'esc01', section: '3.1.1.3', verdict: app },
  { file: 'escnull', section: '3.1.1.4', verdict: app },
  { file: 'esc02', section: '3.1.1.5', verdict: unrouted },
  { file: 'lwsdisp', section: '3.1.1.6', verdict: app },
  { file: 'longreq', section: '3.1.1.7', verdict: app },
  { file: 'dblreq', section: '3.1.1.8', verdict: app },
  { file: 'semiuri', section: '3.1.1.9', verdict: app },
  { file: 'transports', section: '3.1.1.10', verdict: app },
  { file: 'mpart01', section: '3.1.1.11', verdict: app },
  { file: 'unreason', section: '3.1.1.12', verdict: drop },
  { file: 'noreason', section: '3.1.1.13', verdict: drop },
  // 3.1.2 invalid messages
  { file: 'badinv01', section: '3.1.2.1', verdict: status(400) },
  { file: 'clerr', section: '3.1.2.2', verdict: status(400) },
  { file: 'ncl', section: '3.1.2.3', verdict: status(400) },
  { file: 'scalar02', section: '3.1.2.4', verdict: status(400) },
  { file: 'scalarlg', section: '3.1.2.5', verdict: drop },
  { file: 'quotbal', section: '3.1.2.6', verdict: status(400) },
  { file: 'ltgtruri', section: '3.1.2.7', verdict: status(400) },
  { file: 'lwsruri', section: '3.1.2.8', verdict: status(400) },
  { file: 'lwsstart', section: '3.1.2.9', verdict: status(400) },
  { file: 'trws', section: '3.1.2.10', verdict: status(400) },
  { file: 'escruri', section: '3.1.2.11', verdict: status(400) },
  { file: 'baddate', section: '3.1.2.12', verdict: app },
  { file: 'regbadct', section: '3.1.2.13', verdict: status(400) },
  { file: 'badaspec', section: '3.1.2.14', verdict: status(400) },
  { file: 'baddn', section: '3.1.2.15', verdict: status(400) },
  { file: 'badvers', section: '3.1.2.16', verdict: status(505) },
  { file: 'mismatch01', section: '3.1.2.17', verdict: status(400) },
  { file: 'mismatch02', section: '3.1.2.18', verdict: status(400) },
  { file: 'bigcode', section: '3.1.2.19', verdict: drop },
  // 3.2 transaction layer
  { file: 'badbranch', section: '3.2.1', verdict: app },
  // 3.3 application layer: the edge passes what the application must judge (415, 406, 401)
  { file: 'insuf', section: '3.3.1', verdict: status(400) },
  { file: 'unkscm', section: '3.3.2', verdict: status(416) },
  { file: 'novelsc', section: '3.3.3', verdict: status(416) },
  { file: 'unksm2', section: '3.3.4', verdict: app },
  { file: 'bext01', section: '3.3.5', verdict: status(420) },
  { file: 'invut', section: '3.3.6', verdict: app },
  { file: 'regaut01', section: '3.3.7', verdict: app },
  { file: 'multi01', section: '3.3.8', verdict: status(400) },
  { file: 'mcl01', section: '3.3.9', verdict: status(400) },
  { file: 'bcast', section: '3.3.10', verdict: drop },
  { file: 'zeromf', section: '3.3.11', verdict: app },
  { file: 'cparam01', section: '3.3.12', verdict: app },
  { file: 'cparam02', section: '3.3.13', verdict: app },
  { file: 'regescrt', section: '3.3.14', verdict: app },
  { file: 'sdp01', section: '3.3.15', verdict: app },
  // 3.4 backward compatibility
  { file: 'inv2543', section: '3.4.1', verdict: app },
];

const DIR = path.dirname(fileURLToPath(import.meta.url));

export function tortureBytes(file: string): Buffer {
  return readFileSync(path.join(DIR, `${file}.dat`));
}

/** The Call-ID as written in the message (long or compact form), for matching what the app saw. */
export function tortureCallId(bytes: Buffer): string | undefined {
  const m = /(?:^|\r\n)(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)/i.exec(bytes.toString('latin1'));
  return m?.[1]?.trim();
}

/**
 * The message as our test peer sends it: the top Via's sent-by (host[:port], after the
 * protocol, possibly folded) becomes the peer's own address, so that responses addressed per
 * RFC 3261 18.2.2 reach it. Nothing else changes: the torture is in the rest.
 */
export function withSentBy(bytes: Buffer, host: string, port: number): Buffer {
  const text = bytes.toString('latin1');
  const via = /(?:^|\r\n)(?:via|v)[ \t]*:/i.exec(text);
  if (!via) return bytes;
  const from = via.index + via[0].length;
  const proto = /^\s*SIP\s*\/\s*\d+\.\d+\s*\/\s*[A-Za-z0-9\-.!%*_+`'~]+\s+/i.exec(text.slice(from));
  if (!proto) return bytes;
  const hostStart = from + proto[0].length;
  const host0 = /^[^\s;,]+/.exec(text.slice(hostStart));
  if (!host0) return bytes;
  return Buffer.from(text.slice(0, hostStart) + `${host}:${port}` + text.slice(hostStart + host0[0].length), 'latin1');
}
