import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from './framing.ts';
import { formatNetworkSip, formatRequestSent, parseWirePayload, wireTime } from './wire-message.ts';

const payloads = (results: ReturnType<FrameDecoder['push']>) => results.map((r) => (r.ok ? r.payload : `ERR:${r.reason}`));

describe('wire framing', () => {
  it('encodes the UTF-8 byte length, not the string length', () => {
    expect(encodeFrame('abc').toString()).toBe('3#abc');
    expect(encodeFrame('é😀').toString('utf8')).toBe('6#é😀');
  });

  it('reassembles a frame split across chunks, one byte at a time', () => {
    const d = new FrameDecoder(1000);
    const bytes = encodeFrame('id|sip|x\r\nINVITE sip:a@b SIP/2.0\r\nSubject: 😀\r\n\r\n');
    const out: string[] = [];
    for (const b of bytes) out.push(...payloads(d.push(Buffer.from([b]))));
    expect(out).toEqual(['id|sip|x\r\nINVITE sip:a@b SIP/2.0\r\nSubject: 😀\r\n\r\n']);
  });

  it('splits coalesced frames, including one ending mid-way', () => {
    const d = new FrameDecoder(1000);
    const all = Buffer.concat([encodeFrame('a|ping'), encodeFrame('b|route|invite'), encodeFrame('c|ping')]);
    expect(payloads(d.push(all.subarray(0, all.length - 2)))).toEqual(['a|ping', 'b|route|invite']);
    expect(payloads(d.push(all.subarray(all.length - 2)))).toEqual(['c|ping']);
  });

  it('splits a multibyte character between chunks without corrupting it', () => {
    const d = new FrameDecoder(1000);
    const bytes = encodeFrame('x|€€');
    expect(payloads(d.push(bytes.subarray(0, 5)))).toEqual([]);
    expect(payloads(d.push(bytes.subarray(5)))).toEqual(['x|€€']);
  });

  it.each([
    ['a non-numeric length', 'abc#def'],
    ['an empty frame', '0#'],
    ['a length over the limit', '2000#x'],
    ['more than 5 digits', '123456#'],
    ['no # at all', 'garbage-without-hash'],
  ])('refuses %s and then stays closed', (_name, input) => {
    const d = new FrameDecoder(1000);
    const out = d.push(Buffer.from(input));
    expect(out.at(-1)?.ok).toBe(false);
    expect(d.push(encodeFrame('a|ping'))).toEqual([]);
  });
});

describe('wire messages', () => {
  it('parses the first line into tokens, keeping empty ones, and the SIP part', () => {
    const p = parseWirePayload('u1|sip|txn||\r\nBYE sip:x SIP/2.0\r\n\r\n');
    expect(p).toEqual({ msgId: 'u1', command: 'sip', args: ['txn', '', ''], sip: 'BYE sip:x SIP/2.0\r\n\r\n' });
    expect(parseWirePayload('|')).toBeUndefined();
  });

  it('formats network messages with more than 10 tokens, as srf requires', () => {
    const s = formatNetworkSip({ bytes: 3, transport: 'udp', remoteAddress: '1.2.3.4', remotePort: 5060, txnId: 't', dialogId: 'd' }, 'abc');
    const tokens = s.split('\r\n')[0]!.split('|');
    expect(tokens.length).toBeGreaterThan(10);
    expect(tokens.slice(1, 3)).toEqual(['sip', 'network']);
    expect(tokens[8]).toBe('t');
    expect(tokens[9]).toBe('d');
  });

  it('puts the txnId where srf reads it in a request echo (token 7 after the first 3)', () => {
    const s = formatRequestSent('m1', { bytes: 3, transport: 'tcp', address: 'h', port: 1, txnId: 'T' }, 'abc');
    const tokens = s.split('\r\n')[0]!.split('|');
    expect(tokens.slice(1, 4)).toEqual(['response', 'm1', 'OK']);
    expect(tokens.slice(3)[7]).toBe('T');
    expect(tokens.slice(3)[1]).toBe('application');
  });

  it('formats time as hh:mm:ss.uuuuuu', () => {
    expect(wireTime(new Date(2020, 0, 1, 3, 4, 5, 67))).toBe('03:04:05.067000');
  });
});
