import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzMessage, seededRandom, validInvite } from '../../test/support/sip-fuzz.ts';
import { installSrfParserShortcuts } from './srf-adapter.ts';
import { firstHeaderKey, lazyParseSipMessage, rememberedHeaderName, sameIgnoringCase, splitHeaderLine, type SrfLazyMessage } from './srf-parser-shortcuts.ts';

interface ParserModule {
  parseSipMessage(text: string, lazy?: boolean): SrfLazyMessage | undefined;
  getHeaderName(raw: string): string;
}
interface SipMessageClass {
  new (text: string): { headers: Record<string, unknown>; has(h: string): boolean; get(h: string): unknown };
  prototype: { getHeaderName(hdr: string): string | undefined };
}

const fromSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));

/** srf's parser and SipMessage as srf ships them: fresh module instances, whatever was installed. */
function srfOriginals(): { parser: ParserModule; SipMessage: SipMessageClass } {
  const files = ['./sip-parser/parser.js', './sip-parser/message.js'].map((f) => fromSrf.resolve(f));
  const kept = files.map((f) => fromSrf.cache[f]);
  for (const f of files) delete fromSrf.cache[f];
  try {
    return { parser: fromSrf(files[0]!) as ParserModule, SipMessage: fromSrf(files[1]!) as SipMessageClass };
  } finally {
    files.forEach((f, i) => {
      if (kept[i]) fromSrf.cache[f] = kept[i];
      else delete fromSrf.cache[f];
    });
  }
}

const { parser, SipMessage } = srfOriginals();
const original = (text: string, lazy: boolean) => parser.parseSipMessage(text, lazy);
const fast = (text: string) => lazyParseSipMessage(text, (n) => parser.getHeaderName(n), original);

const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n';
const lines = (...l: string[]) => l.join('\r\n');

/** Messages shaped like the calls outdial carries, and the corners of srf's parse. */
const CORPUS: Record<string, string> = {
  invite: validInvite(1, '127.0.0.1', 5060),
  ok: lines('SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1', 'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2', 'Record-Route: <sip:a;lr>', 'Record-Route: <sip:b;lr>', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2', 'Call-ID: x@y', 'CSeq: 1 INVITE', 'Contact: <sip:c@10.0.0.3>', 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp),
  trying: lines('SIP/2.0 100 Trying', 'Via: SIP/2.0/UDP 10.0.0.1', 'Call-ID: 1', 'Content-Length: 0', '', ''),
  noReason: lines('SIP/2.0 183', 'Call-ID: 1', '', ''),
  reasonSpaces: lines('SIP/2.0 486 Busy  Here   ', 'Call-ID: 1', '', ''),
  bye: lines('BYE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bKx', 'Max-Forwards: 70', 'Call-ID: 1', 'CSeq: 2 BYE', 'Content-Length: 0', '', ''),
  compact: lines('INVITE sip:a@b SIP/2.0', 'v: SIP/2.0/UDP h', 'f: <sip:x@y>;tag=1', 't: <sip:a@b>', 'i: c1', 'm: <sip:x@h>', 'c: application/sdp', 'k: 100rel', 's: hi', `l: ${sdp.length}`, '', sdp),
  cases: lines('OPTIONS sip:a@b SIP/2.0', 'CALL-ID: 1', 'call-id: 2', 'X-Custom: a', 'x-custom: b', 'P-Asserted-Identity: <sip:p@q>', 'P-Charging-Vector: icid=1', 'Diversion: <sip:d@e>', 'diversion: <sip:f@g>', 'Content-Length: 0', '', ''),
  spacing: lines('OPTIONS sip:a@b SIP/2.0', 'Subject :  spaced', 'Organization:\ttabbed', 'Empty:', 'Trailing: value   ', 'NoSpace:x', 'Colon: a: b', '', ''),
  folded: lines('OPTIONS sip:a@b SIP/2.0', 'Subject: first', ' second', 'Via: a', '\tb', '', ''),
  noColon: lines('OPTIONS sip:a@b SIP/2.0', 'Broken header', '', ''),
  spaceInName: lines('OPTIONS sip:a@b SIP/2.0', 'Bad Name: v', '', ''),
  nbsp: lines('OPTIONS sip:a@b SIP/2.0', 'Name\u00a0: v', 'Other:\u00a0\u2003w', '', ''),
  protoNames: lines('OPTIONS sip:a@b SIP/2.0', 'constructor: a', 'toString: b', '__proto__: c', 'hasOwnProperty: d', '', ''),
  escaped: lines('OPTIONS sip:a@b SIP/2.0', 'X%2DFoo: a', 'Su%62ject: b', '', ''),
  unicode: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Type: text/plain', 'Content-Length: 8', '', 'héllo € 😀'),
  noLength: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Type: text/plain', '', 'body one', '', 'body two'),
  zeroLength: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 0', '', 'ignored'),
  longLength: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 500', '', 'short'),
  badLength: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: abc', '', 'text'),
  blankInBody: lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 12', '', 'ab', '', 'cd', '', 'ef'),
  noBlankLine: lines('OPTIONS sip:a@b SIP/2.0', 'Call-ID: 1'),
  noBlankWithLength: lines('OPTIONS sip:a@b SIP/2.0', 'Content-Length: 4'),
  multipart: lines('INVITE sip:a@b SIP/2.0', 'Content-Type: multipart/mixed;boundary=xyz', 'Content-Length: 120', '', '--xyz', 'Content-Type: application/sdp', '', 'v=0', '--xyz', 'Content-Type: application/isup', '', 'isup', '--xyz--'),
  multipartOnePart: lines('INVITE sip:a@b SIP/2.0', 'Content-Type: multipart/mixed;boundary=xyz', 'Content-Length: 10', '', '0123456789'),
  multipartNoBoundary: lines('INVITE sip:a@b SIP/2.0', 'Content-Type: multipart/mixed', 'Content-Length: 20', '', 'a', '', 'b'),
  badStart: lines('HELLO', 'Call-ID: 1', '', ''),
  emptyStart: lines('', 'Call-ID: 1', '', ''),
  empty: '',
  lowerMethod: lines('invite sip:a@b SIP/2.0', 'Call-ID: 1', '', ''),
  oddVersion: lines('INVITE sip:a@b SIP / 2.0', 'Call-ID: 1', '', ''),
  escapedMethod: lines('IN%56ITE sip:a@b SIP/2.0', 'Call-ID: 1', '', ''),
  lfOnly: 'OPTIONS sip:a@b SIP/2.0\nCall-ID: 1\n\n',
  loneCr: lines('OPTIONS sip:a@b SIP/2.0', 'Subject: a\rb', 'Call-ID: 1', '', ''),
  lfInValue: lines('OPTIONS sip:a@b SIP/2.0', 'Subject: a\nb', '', ''),
  trailingCrlf: 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n',
  extraBlankLines: 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n\r\n\r\n\r\n',
};

function corpus(): Array<[string, string]> {
  const out = Object.entries(CORPUS);
  const dir = path.join(import.meta.dirname, '../../test/support/rfc4475');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.dat'))) out.push([`rfc4475/${f}`, readFileSync(path.join(dir, f), 'latin1')]);
  const rand = seededRandom(14);
  for (let i = 0; i < 3000; i++) out.push([`fuzz#${i}`, fuzzMessage(rand, i, '127.0.0.1', 5060).toString('utf8')]);
  return out;
}

describe('lazyParseSipMessage', () => {
  const all = corpus();

  it('returns what srf parseSipMessage(text, true) returns, for every message of the corpus', () => {
    let parsed = 0;
    for (const [name, text] of all) {
      const want = original(text, true);
      if (want) parsed++;
      expect(fast(text), name).toStrictEqual(want);
    }
    // the corpus has messages srf parses and messages it refuses
    expect(parsed).toBeGreaterThan(500);
    expect(parsed).toBeLessThan(all.length);
  });

  it('parses plain messages itself and leaves folded lines, multipart bodies and prototype names to srf', () => {
    const calls: string[] = [];
    const spy = (text: string, lazy: boolean) => {
      calls.push(text);
      return original(text, lazy);
    };
    for (const name of ['invite', 'ok', 'compact', 'cases', 'spacing', 'unicode', 'noLength', 'multipartOnePart']) {
      lazyParseSipMessage(CORPUS[name]!, (n) => parser.getHeaderName(n), spy);
    }
    expect(calls).toEqual([]);
    for (const name of ['folded', 'multipart', 'multipartNoBoundary']) {
      lazyParseSipMessage(CORPUS[name]!, (n) => parser.getHeaderName(n), spy);
    }
    expect(calls).toEqual([CORPUS.folded, CORPUS.multipart, CORPUS.multipartNoBoundary]);
  });

  it('leaves srf a header name every object has (one DRACHTIO_PRESERVE_HEADER_NAMES keeps as it is)', () => {
    // srf maps "constructor" and "__proto__" through its compact-form table to odd keys, the same either way
    expect(fast(CORPUS.protoNames!)).toStrictEqual(original(CORPUS.protoNames!, true));
    const before = process.env.DRACHTIO_PRESERVE_HEADER_NAMES;
    process.env.DRACHTIO_PRESERVE_HEADER_NAMES = 'toString';
    try {
      const calls: string[] = [];
      const got = lazyParseSipMessage(CORPUS.protoNames!, (n) => parser.getHeaderName(n), (text, lazy) => (calls.push(text), original(text, lazy)));
      expect(calls).toEqual([CORPUS.protoNames]);
      expect(got).toStrictEqual(original(CORPUS.protoNames!, true));
      expect(Object.keys(got!.headers)).toContain('toString');
    } finally {
      if (before === undefined) delete process.env.DRACHTIO_PRESERVE_HEADER_NAMES;
      else process.env.DRACHTIO_PRESERVE_HEADER_NAMES = before;
    }
  });

  it('splits a header line as srf expression /^([\\S]*?)\\s*:\\s*([\\s\\S]*)$/ does', () => {
    const re = /^([\S]*?)\s*:\s*([\s\S]*)$/;
    for (const line of ['A: b', 'A:b', 'A :b', 'A \t : b ', 'A', 'A b: c', ':x', ' A: b', 'A:: b', 'A:\u3000b', 'A\u2028: b', 'A: b\nc', '']) {
      const m = re.exec(line);
      expect(splitHeaderLine(line), JSON.stringify(line)).toEqual(m ? { name: m[1], value: m[2] } : undefined);
    }
  });
});

describe('firstHeaderKey', () => {
  it('finds the key SipMessage#getHeaderName finds', () => {
    const originalKey = SipMessage.prototype.getHeaderName;
    for (const [name, text] of Object.entries(CORPUS)) {
      let msg: { headers: Record<string, unknown> };
      try {
        msg = new SipMessage(text);
      } catch {
        continue;
      }
      for (const hdr of ['call-id', 'Call-ID', 'CALL-ID', 'x-custom', 'X-Custom', 'diversion', 'p-asserted-identity', 'content-length', 'subject', 'nothing', '']) {
        expect(firstHeaderKey(msg.headers, hdr), `${name}: ${hdr}`).toBe(originalKey.call(msg, hdr));
      }
    }
  });
});

describe('sameIgnoringCase', () => {
  it('agrees with comparing toLowerCase() of both, ASCII or not', () => {
    // Kelvin sign, dotted capital I (lower-cases to two code units), sigma, sharp s, a BOM
    const pieces = ['a', 'A', 'z', 'Z', '-', '@', '[', '`', '{', '\u212a', 'k', 'K', '\u0130', 'i', 'I', '\u03a3', '\u03c3', '\u03c2', '\u1e9e', '\u00df', '\u00c9', '\u00e9', '\ufeff', ''];
    const words: string[] = ['', 'call-id', 'Call-ID', 'CALL-ID', 'call-ie', 'x-custom', 'X-Custom', 'x-custo'];
    const rand = seededRandom(42);
    const pick = (n: number): number => Math.floor(rand() * n);
    for (let n = 0; n < 4000; n++) {
      let w = '';
      const len = pick(5);
      for (let i = 0; i < len; i++) w += pieces[pick(pieces.length)];
      words.push(w);
    }
    let compared = 0;
    for (let i = 0; i < words.length; i++) {
      for (const j of [i, (i * 7 + 1) % words.length, (i * 13 + 5) % words.length]) {
        const a = words[i]!;
        const b = words[j]!;
        expect(sameIgnoringCase(a, b), `${JSON.stringify(a)} ${JSON.stringify(b)}`).toBe(a.toLowerCase() === b.toLowerCase());
        compared++;
      }
    }
    // pairs that differ only in case, with and without non-ASCII letters
    for (const [a, b] of [['Via', 'vIA'], ['\u212a', 'k'], ['\u0130x', 'i\u0307x'], ['\u03a3A', '\u03c3a'], ['X\u00c9', 'x\u00e9']] as const) {
      expect(sameIgnoringCase(a, b), `${a} ${b}`).toBe(a.toLowerCase() === b.toLowerCase());
      expect(sameIgnoringCase(a, b)).toBe(true);
    }
    expect(compared).toBeGreaterThan(12_000);
  });
});

describe('rememberedHeaderName', () => {
  it('gives getHeaderName answers, and forgets them when DRACHTIO_PRESERVE_HEADER_NAMES changes', () => {
    const env: NodeJS.ProcessEnv = {};
    let asked = 0;
    const named = rememberedHeaderName((raw) => {
      asked++;
      return env.DRACHTIO_PRESERVE_HEADER_NAMES === raw ? raw : raw.toLowerCase();
    }, env);
    expect([named('Via'), named('Via'), named('From')]).toEqual(['via', 'via', 'from']);
    expect(asked).toBe(2);
    env.DRACHTIO_PRESERVE_HEADER_NAMES = 'Via';
    expect(named('Via')).toBe('Via');
    expect(asked).toBe(3);
  });

  it('keeps at most its limit of names', () => {
    let asked = 0;
    const named = rememberedHeaderName((raw) => (asked++, raw), {}, 4);
    for (let i = 0; i < 10; i++) named(`h${i}`);
    named('h9');
    expect(asked).toBe(10);
    named('h0');
    expect(asked).toBe(11);
  });
});

describe('installSrfParserShortcuts', () => {
  it('is in place for the drachtio-srf this checkout locks (a new srf needs the shortcuts checked again, then SRF_PARSER_SOURCES)', () => {
    expect(installSrfParserShortcuts()).toBe(true);
    const installed = fromSrf('./sip-parser/parser.js') as ParserModule;
    const InstalledMessage = fromSrf('./sip-parser/message.js') as SipMessageClass;
    expect(installed.parseSipMessage).not.toBe(parser.parseSipMessage);
    // srf's own SipMessage now parses through the shortcut, and reads its headers the same way
    for (const [name, text] of Object.entries(CORPUS)) {
      let want: unknown;
      let got: unknown;
      try {
        want = { ...new SipMessage(text) };
      } catch (err) {
        want = (err as Error).message;
      }
      try {
        const m = new InstalledMessage(text);
        got = { ...m };
        expect(m.get('call-id'), name).toBe(new SipMessage(text).get('call-id'));
      } catch (err) {
        got = (err as Error).message;
      }
      expect(got, name).toStrictEqual(want);
    }
    expect(installSrfParserShortcuts()).toBe(true);
  });
});
