import { describe, expect, it } from 'vitest';
import {
  addHeader,
  cloneMessage,
  formatNameAddr,
  formatUri,
  getHeader,
  getHeaders,
  parseCSeq,
  parseNameAddr,
  parseUri,
  parseVia,
  removeHeader,
  removeTopVia,
  serializeMessage,
  serializeMessageText,
  setHeader,
  setTopVia,
  tagOf,
} from './message.ts';
import type { SipRequest } from './message.ts';
import { parseMessage } from './parser.ts';
import { createResponse } from './response-builder.ts';

function sample(): SipRequest {
  return {
    kind: 'request',
    method: 'INVITE',
    uri: 'sip:x@h',
    headers: [
      { name: 'v', value: 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2' },
      { name: 'Via', value: 'SIP/2.0/UDP c;branch=z9hG4bK3' },
      { name: 'From', value: '<sip:a@h>;tag=f' },
      { name: 'To', value: '<sip:x@h>' },
      { name: 'Call-ID', value: 'id' },
      { name: 'CSeq', value: '1 INVITE' },
      { name: 'X-Custom', value: 'one, two' },
      { name: 'Content-Length', value: '999' },
      { name: 'X-After', value: 'z' },
    ],
    body: Buffer.from('v=0\r\n'),
  };
}

describe('header access', () => {
  it('getHeader returns the first value; list headers give their topmost element', () => {
    const m = sample();
    expect(getHeader(m, 'VIA')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(getHeader(m, 'x-custom')).toBe('one, two');
    expect(getHeader(m, 'i')).toBe('id');
    expect(getHeader(m, 'Subject')).toBeUndefined();
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'treats a header named %s as an ordinary header (no prototype lookups)',
    (name) => {
      const m = sample();
      m.headers.push({ name, value: 'hostile' });
      expect(getHeader(m, name)).toBe('hostile');
      expect(getHeader(m, name.toUpperCase())).toBe('hostile');
      expect(getHeader(m, 'Via')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
      expect(getHeaders(m, name)).toEqual(['hostile']);
    },
  );

  it('getHeaders splits list headers across lines', () => {
    expect(getHeaders(sample(), 'via')).toEqual(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3']);
    expect(getHeaders(sample(), 'x-custom')).toEqual(['one, two']);
  });

  it('setHeader replaces every spelling in place; addHeader places at top or bottom; removeHeader removes all', () => {
    const m = sample();
    setHeader(m, 'Via', 'SIP/2.0/TCP z;branch=z9hG4bKz');
    expect(m.headers.filter((h) => /^(v|via)$/i.test(h.name))).toEqual([{ name: 'Via', value: 'SIP/2.0/TCP z;branch=z9hG4bKz' }]);
    expect(m.headers[0]?.name).toBe('Via');
    addHeader(m, 'Via', 'SIP/2.0/UDP top;branch=z9hG4bKt', 'top');
    addHeader(m, 'Via', 'SIP/2.0/UDP bottom;branch=z9hG4bKb');
    expect(getHeaders(m, 'via').map((v) => parseVia(v)?.host)).toEqual(['top', 'z', 'bottom']);
    addHeader(m, 'Record-Route', '<sip:p;lr>', 'top');
    expect(m.headers[0]?.name).toBe('Record-Route');
    removeHeader(m, 'v');
    expect(getHeaders(m, 'via')).toEqual([]);
    setHeader(m, 'Subject', 'new');
    expect(m.headers.at(-1)).toEqual({ name: 'Subject', value: 'new' });
  });

  it('removeTopVia and setTopVia touch only the topmost value', () => {
    const m = sample();
    removeTopVia(m);
    expect(getHeaders(m, 'via').map((v) => parseVia(v)?.host)).toEqual(['b', 'c']);
    setTopVia(m, 'SIP/2.0/UDP n;branch=z9hG4bKn');
    expect(getHeaders(m, 'via').map((v) => parseVia(v)?.host)).toEqual(['n', 'c']);
  });

  it('finds names with white space around them, compact forms and any case, and nothing else', () => {
    const m = sample();
    m.headers.push({ name: ' Subject\t', value: 'spaced' }, { name: ' s', value: 'compact spaced' }, { name: 'SUBJECTS', value: 'other' });
    expect(getHeaders(m, 'subject')).toEqual(['spaced', 'compact spaced']);
    expect(getHeaders(m, 's')).toEqual(['spaced', 'compact spaced']);
    expect(getHeader(m, 'CALL-ID')).toBe('id');
    expect(getHeader(m, 'Subjects')).toBe('other');
    expect(getHeader(m, 'Subjec')).toBeUndefined();
    addHeader(m, 'Subject', 'last');
    expect(m.headers.at(-2)).toEqual({ name: 'Subject', value: 'last' });
    removeHeader(m, 'Subject');
    expect(getHeaders(m, 'subject')).toEqual([]);
    expect(getHeader(m, 'subjects')).toBe('other');
  });

  it('cloneMessage is deep', () => {
    const m = sample();
    const c = cloneMessage(m);
    c.headers[0]!.value = 'changed';
    c.body[0] = 0x41;
    expect(m.headers[0]?.value).toContain('SIP/2.0/UDP a');
    expect(m.body.toString()).toBe('v=0\r\n');
  });
});

describe('serializeMessage', () => {
  it('keeps header order and rewrites Content-Length in place', () => {
    const text = serializeMessage(sample()).toString();
    expect(text).toBe(
      [
        'INVITE sip:x@h SIP/2.0',
        'v: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP c;branch=z9hG4bK3',
        'From: <sip:a@h>;tag=f',
        'To: <sip:x@h>',
        'Call-ID: id',
        'CSeq: 1 INVITE',
        'X-Custom: one, two',
        'Content-Length: 5',
        'X-After: z',
        '',
        'v=0\r\n',
      ].join('\r\n'),
    );
  });

  it('appends Content-Length when absent and keeps CR/LF in values from injecting lines', () => {
    const m = sample();
    removeHeader(m, 'content-length');
    setHeader(m, 'X-After', 'a\r\nInjected: yes');
    const text = serializeMessage(m).toString();
    expect(text).toContain('X-After: a Injected: yes\r\nContent-Length: 5\r\n\r\n');
  });

  it('round-trips through the parser, UTF-8 included', () => {
    const m = sample();
    setHeader(m, 'Subject', 'Grüße 🎉');
    m.body = Buffer.from('ünïcödé');
    const r = parseMessage(serializeMessage(m), 65535);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.headers.filter((h) => h.name !== 'Content-Length')).toEqual(m.headers.filter((h) => h.name !== 'Content-Length'));
    expect(r.message.body.equals(m.body)).toBe(true);
    expect(serializeMessage(r.message).equals(serializeMessage(m))).toBe(true);
  });

  it('gives the same wire form as text, with its length in bytes', () => {
    const m = sample();
    setHeader(m, 'Subject', 'Grüße 🎉');
    for (const body of [Buffer.from('ünïcödé'), Buffer.alloc(0)]) {
      m.body = body;
      const bytes = serializeMessage(m);
      const text = serializeMessageText(m);
      expect(text.text).toBe(bytes.toString('utf8'));
      expect(text.bytes).toBe(bytes.length);
    }
  });

  it('writes a response built from a request (8.2.6.2)', () => {
    const res = createResponse(sample(), 486, undefined, 'tt');
    expect(serializeMessage(res).toString()).toBe(
      [
        'SIP/2.0 486 Busy Here',
        'Via: SIP/2.0/UDP a;branch=z9hG4bK1',
        'Via: SIP/2.0/UDP b;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP c;branch=z9hG4bK3',
        'From: <sip:a@h>;tag=f',
        'To: <sip:x@h>;tag=tt',
        'Call-ID: id',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });
});

describe('parseNameAddr', () => {
  it.each([
    ['"Alice A." <sip:alice@h>;tag=1', { display: 'Alice A.', uri: 'sip:alice@h', params: { tag: '1' } }],
    ['Bob <sip:bob@h;transport=tcp>;tag=2;x', { display: 'Bob', uri: 'sip:bob@h;transport=tcp', params: { tag: '2', x: null } }],
    ['<sip:c@h>', { uri: 'sip:c@h', params: {} }],
    ['sip:d@h;tag=3', { uri: 'sip:d@h', params: { tag: '3' } }],
    ['"Quote \\" inside" <tel:+1555>', { display: 'Quote \\" inside', uri: 'tel:+1555', params: {} }],
    ['*', { uri: '*', params: {} }],
  ])('%s', (input, expected) => {
    const na = parseNameAddr(input);
    expect(na && { ...na, params: Object.fromEntries(na.params) }).toEqual(expected);
  });

  it.each(['', '<sip:unclosed@h', '"unclosed <sip:x@h>', 'no-scheme', '<sip:x@h> junk'])('rejects %j', (input) => {
    expect(parseNameAddr(input)).toBeUndefined();
  });

  it('formats back and reads tags', () => {
    expect(formatNameAddr({ display: 'A', uri: 'sip:a@h', params: new Map([['tag', 'x']]) })).toBe('"A" <sip:a@h>;tag=x');
    expect(tagOf('<sip:a@h>;TAG=abc')).toBe('abc');
    expect(tagOf('<sip:a@h;tag=inside-uri>')).toBeUndefined();
    expect(tagOf(undefined)).toBeUndefined();
  });
});

describe('parseVia, parseCSeq, parseUri', () => {
  it('parses Via values', () => {
    const v = parseVia('SIP/2.0/udp [2001:db8::1]:5070;branch=z9hG4bKx;rport;received=10.0.0.1');
    expect(v && { ...v, params: Object.fromEntries(v.params) }).toEqual({ transport: 'UDP', host: '[2001:db8::1]', port: 5070, params: { branch: 'z9hG4bKx', rport: null, received: '10.0.0.1' } });
    expect(parseVia('SIP/2.0/TCP host.example.com')?.port).toBeUndefined();
  });

  it.each([
    ['1 INVITE', { seq: 1, method: 'INVITE' }],
    ['  2147483647   BYE ', { seq: 2147483647, method: 'BYE' }],
    ['2147483648 BYE', undefined],
    ['x INVITE', undefined],
    ['1', undefined],
  ])('CSeq %j', (input, expected) => {
    expect(parseCSeq(input)).toEqual(expected);
  });

  it.each([
    ['sip:+15551234567;npdi@gw.example.com:5080;transport=tcp;lr?X-H=1', { scheme: 'sip', user: '+15551234567;npdi', host: 'gw.example.com', port: 5080, params: { transport: 'tcp', lr: null }, headers: 'X-H=1' }],
    ['sips:alice:secret@[::1]', { scheme: 'sips', user: 'alice', password: 'secret', host: '[::1]', params: {} }],
    ['SIP:10.0.0.1', { scheme: 'sip', host: '10.0.0.1', params: {} }],
    ['tel:+15551234567;phone-context=example.com', { scheme: 'tel', user: '+15551234567', host: '', params: { 'phone-context': 'example.com' } }],
  ])('URI %s', (input, expected) => {
    const u = parseUri(input);
    expect(u && { ...u, params: Object.fromEntries(u.params) }).toEqual(expected);
    if (u) expect(parseUri(formatUri(u))).toEqual(u);
  });

  it.each(['http://x', 'sip:', 'sip:@h', 'sip:h:99999', 'sip:a b@h', 'nothing'])('rejects URI %j', (input) => {
    expect(parseUri(input)).toBeUndefined();
  });
});
