import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizationValue, chooseChallenge, digestResponse, digestUsername, parseChallenges, type DigestChallenge } from './digest-auth.ts';

const challengeOf = (value: string): DigestChallenge => {
  const c = chooseChallenge(parseChallenges(value));
  if (!c) throw new Error(`no usable challenge in ${value}`);
  return c;
};

describe('RFC 7616 §3.9.1: the Mufasa example, MD5 and SHA-256', () => {
  const header =
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const common = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };

  it('parses both challenges of the one header value, and picks the first (SHA-256) with qop=auth', () => {
    const raw = parseChallenges(header);
    expect(raw.map((c) => c.params.get('algorithm'))).toEqual(['SHA-256', 'MD5']);
    expect(raw[0]!.params.get('qop')).toBe('auth, auth-int');
    const c = chooseChallenge(raw)!;
    expect(c).toMatchObject({ algorithm: 'SHA-256', qop: 'auth', realm: 'http-auth@example.org', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS', stale: false, userhash: false });
  });

  it('SHA-256 response 753927fa…', () => {
    expect(digestResponse({ ...common, challenge: challengeOf(header) })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('MD5 response 8ca523f5…', () => {
    const md5 = chooseChallenge(parseChallenges(header).slice(1))!;
    expect(md5.algorithm).toBe('MD5');
    expect(digestResponse({ ...common, challenge: md5 })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('writes the Authorization with the RFC example values (qop and nc as tokens)', () => {
    const value = authorizationValue({ ...common, challenge: challengeOf(header) });
    expect(value).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
        'uri="/dir/index.html", response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", algorithm=SHA-256, ' +
        'qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
  });
});

describe('RFC 7616 §3.9.2: SHA-512-256 with userhash', () => {
  const c = challengeOf(
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", ' +
      'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true',
  );
  const username = 'J\u00e4s\u00f8n Doe';

  it('hashes the user name with the realm', () => {
    expect(digestUsername(c, username)).toBe('793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b');
  });

  it('response 3798d413… (the RFC value)', () => {
    const cnonce = 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v';
    expect(digestResponse({ challenge: c, username, password: 'Secret, or not?', method: 'GET', uri: '/doe.json', cnonce, nc: 1 })).toBe(
      '3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5',
    );
    expect(authorizationValue({ challenge: c, username, password: 'x', method: 'GET', uri: '/doe.json', cnonce })).toContain('userhash=true');
  });
});

describe('RFC 2617 §3.5 / RFC 3261 §22.4: MD5 with qop=auth and without qop', () => {
  it('the Mufasa example of RFC 2617 (response 6629fae4…)', () => {
    const c = challengeOf('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    expect(c).toMatchObject({ algorithm: 'MD5', qop: 'auth' });
    expect(digestResponse({ challenge: c, username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: '0a4f113b' })).toBe(
      '6629fae49393a05397450978507c4ef1',
    );
  });

  it('without qop: H(HA1:nonce:HA2), and no qop, nc or cnonce in the header', () => {
    const c = challengeOf('Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e"');
    expect(c.qop).toBeUndefined();
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5('alice:atlanta.com:secret');
    const ha2 = md5('INVITE:sip:bob@biloxi.com');
    expect(digestResponse({ challenge: c, username: 'alice', password: 'secret', method: 'INVITE', uri: 'sip:bob@biloxi.com', nc: 1, cnonce: 'x' })).toBe(md5(`${ha1}:${c.nonce}:${ha2}`));
    const value = authorizationValue({ challenge: c, username: 'alice', password: 'secret', method: 'INVITE', uri: 'sip:bob@biloxi.com' });
    expect(value).not.toMatch(/qop=|nc=|cnonce=/);
    expect(value).toContain('algorithm=MD5');
  });

  it('auth-int alone: A2 carries the hash of the body', () => {
    const c = challengeOf('Digest realm="r", nonce="n", qop="auth-int"');
    expect(c.qop).toBe('auth-int');
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const body = 'v=0\r\n';
    const expected = md5(`${md5('u:r:p')}:n:00000001:c:auth-int:${md5(`INVITE:sip:x@y:${md5(body)}`)}`);
    expect(digestResponse({ challenge: c, username: 'u', password: 'p', method: 'INVITE', uri: 'sip:x@y', body, nc: 1, cnonce: 'c' })).toBe(expected);
  });

  it('MD5-sess: HA1 = H(H(user:realm:password):nonce:cnonce)', () => {
    const c = challengeOf('Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess');
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${md5('u:r:p')}:n:c`);
    expect(digestResponse({ challenge: c, username: 'u', password: 'p', method: 'BYE', uri: 'sip:x@y', nc: 1, cnonce: 'c' })).toBe(md5(`${ha1}:n:00000001:c:auth:${md5('BYE:sip:x@y')}`));
  });
});

describe('choosing and reading challenges', () => {
  it('skips what it cannot answer: another scheme, an unknown algorithm, an unknown qop', () => {
    expect(chooseChallenge(parseChallenges('Basic realm="x"'))).toBeUndefined();
    expect(chooseChallenge(parseChallenges('Digest realm="x", nonce="n", algorithm=AKAv1-MD5'))).toBeUndefined();
    expect(chooseChallenge(parseChallenges('Digest realm="x", nonce="n", qop="auth-conf"'))).toBeUndefined();
    expect(chooseChallenge(parseChallenges('Digest realm="x"'))).toBeUndefined(); // no nonce
    const c = chooseChallenge(parseChallenges('Digest realm="x", nonce="n", algorithm=AKAv1-MD5, Digest realm="x", nonce="m", algorithm=md5'));
    expect(c).toMatchObject({ nonce: 'm', algorithm: 'MD5' });
  });

  it('reads quoted strings with escapes and commas, tokens, case-insensitive names and scheme, stale', () => {
    const [c] = parseChallenges('DIGEST REALM="a \\"quoted\\", realm", Nonce=abc123, stale=TRUE');
    expect(c!.scheme).toBe('DIGEST');
    expect(c!.params.get('realm')).toBe('a "quoted", realm');
    expect(c!.params.get('nonce')).toBe('abc123');
    expect(chooseChallenge([c!])).toMatchObject({ stale: true, realm: 'a "quoted", realm' });
  });

  it('quotes a realm and user name that need escaping when it writes them back', () => {
    const c = challengeOf('Digest realm="a \\"b\\"", nonce="n"');
    expect(authorizationValue({ challenge: c, username: 'u\\v', password: 'p', method: 'BYE', uri: 'sip:x' })).toMatch(/^Digest username="u\\\\v", realm="a \\"b\\"",/);
  });
});
