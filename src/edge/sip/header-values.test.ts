import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/sip-fuzz.ts';
import { isNameAddr, isVia, nameAddrParam, nameAddrUri, parseNameAddr, parseVia, tagOf, viaParam } from './header-values.ts';
import { paramValue, parseParams } from './params.ts';

/** From/To/Contact/Route values, well-formed and not (RFC 3261 20.10, 25.1; RFC 4475 3.1.2). */
const VALUES = [
  '<sip:a@b>;tag=1', 'sip:a@b;tag=1', '"Al ;tag=x" <sip:a@b;tag=uri>;tag=hdr', 'Al <sip:a@b>;TAG=up;x', '<sip:a@b>;tag',
  '<sip:a@b>;tag=', '<sip:a@b>;tag=1;tag=2', '<sip:a@b> ; tag = 3 ', '*', '', '  ', '<sip:a@b', 'sip:a@b>', '<>', '<nocolon>',
  '"unterminated <sip:a@b>', '"q\\"uote" <sip:a@b>;tag=q', '"x" sip:a@b', '<sip:a@b>x', '<sip:a@b>;p="a;tag=no";tag=yes',
  '<sip:a@b>;p="unterminated;tag=z', 'sip:a@b;p="x\\";tag=w"', 'sip:a b@c', '<sip:[::1]:5060;transport=tcp>;lr', '<sip:a@b>;\u212aAG=kelvin',
  '<sip:a@b>;TAG', '\u00c9mile <sip:e@b>;tag=\u00e9', '<sip:a@b>;;tag=e;', 'tel:+15551234;tag=t', '<sip:a@b>;tag=a\\',
];

describe('name-addr reads without the parameter map', () => {
  it('isNameAddr, nameAddrUri and nameAddrParam agree with parseNameAddr', () => {
    const rand = seededRandom(7);
    const pick = (n: number): number => Math.floor(rand() * n);
    const pieces = ['<', '>', '"', '\\', ';', '=', ' ', 'tag', 'TAG', 'sip:', 'a@b', 'x', ':', ','];
    const values = [...VALUES];
    for (let n = 0; n < 3000; n++) {
      let v = '';
      const len = 1 + pick(9);
      for (let i = 0; i < len; i++) v += pieces[pick(pieces.length)];
      values.push(v);
    }
    let parsed = 0;
    for (const v of values) {
      const na = parseNameAddr(v);
      if (na) parsed++;
      expect(isNameAddr(v), JSON.stringify(v)).toBe(na !== undefined);
      expect(nameAddrUri(v), JSON.stringify(v)).toBe(na?.uri);
      for (const name of ['tag', 'lr', 'p', 'x']) expect(nameAddrParam(v, name), `${JSON.stringify(v)} ${name}`).toBe(na?.params.get(name));
      const t = na?.params.get('tag');
      expect(tagOf(v), JSON.stringify(v)).toBe(t === null || t === undefined || t === '' ? undefined : t);
    }
    // the fuzz must reach both answers
    expect(parsed).toBeGreaterThan(100);
    expect(parsed).toBeLessThan(values.length - 100);
  });

  it('paramValue is parseParams(s).get(name), the last of a repeated name', () => {
    for (const s of [';a=1;b;c="x;y"', ';tag=1;TAG=2', 'tag', ' ; tag ; ', ';tag="a\\";b";tag', ';p="open;tag=1', '', ';=v;tag= v ', ';x=1;\u212aAG=k']) {
      for (const name of ['a', 'b', 'c', 'tag', 'p', 'x', '']) expect(paramValue(s, name), `${JSON.stringify(s)} ${name}`).toBe(parseParams(s).get(name));
    }
    expect(paramValue(';tag=1;TAG=2', 'tag')).toBe('2');
  });
});

describe('isVia', () => {
  it('agrees with parseVia', () => {
    const values = ['SIP/2.0/UDP h:5060;branch=z9hG4bK1', 'SIP / 2.0 / tcp [::1]:5061 ;rport', 'SIP/2.0/UDP h:0', 'SIP/2.0/UDP h:65536', 'SIP/2.0/UDP', 'SIP/2.0/UDP [::1', 'SIP/3.0/UDP h', 'sip/2.0/udp h;x="a;b"', ' SIP/2.0/TLS h ', '', 'SIP/2.0/UDP h:x'];
    for (const v of values) {
      expect(isVia(v), JSON.stringify(v)).toBe(parseVia(v) !== undefined);
      for (const name of ['branch', 'rport', 'x']) expect(viaParam(v, name), `${JSON.stringify(v)} ${name}`).toBe(parseVia(v)?.params.get(name));
    }
    expect(values.filter(isVia).length).toBeGreaterThan(3);
  });
});
