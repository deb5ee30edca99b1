import { describe, expect, it } from 'vitest';
import { buildRequestUri, buildToUri, escapeSipUser, formatHostport } from './request-uri.ts';

const N = '+15551234567';

describe('buildRequestUri', () => {
  it.each([
    { prefix: '0011', postfix: '#', host: 'carrier.example.com:5080', uri: 'sip:0011+15551234567%23@carrier.example.com:5080' },
    { prefix: '', postfix: '', host: 'sip.telnyx.com', uri: 'sip:+15551234567@sip.telnyx.com' },
    { prefix: '9', postfix: '', host: '192.0.2.10', uri: 'sip:9+15551234567@192.0.2.10' },
    { prefix: '', postfix: ';npdi', host: '192.0.2.10:5060', uri: 'sip:+15551234567;npdi@192.0.2.10:5060' },
    { prefix: 'acct*7#', postfix: '', host: 'h.example', uri: 'sip:acct*7%23+15551234567@h.example' },
    { prefix: "-_.!~*'()", postfix: "&=+$,;?/", host: 'h.example', uri: "sip:-_.!~*'()+15551234567&=+$,;?/@h.example" },
    { prefix: '%', postfix: '', host: 'h.example', uri: 'sip:%25+15551234567@h.example' },
    { prefix: 'a b', postfix: '@', host: 'h.example', uri: 'sip:a%20b+15551234567%40@h.example' },
    { prefix: '', postfix: ':x', host: 'h.example', uri: 'sip:+15551234567%3Ax@h.example' },
    { prefix: '', postfix: '<>"[]{}|\\^`', host: 'h.example', uri: 'sip:+15551234567%3C%3E%22%5B%5D%7B%7D%7C%5C%5E%60@h.example' },
    { prefix: 'é', postfix: '', host: 'h.example', uri: 'sip:%C3%A9+15551234567@h.example' },
    { prefix: '', postfix: '', host: '[2001:db8::1]', uri: 'sip:+15551234567@[2001:db8::1]' },
    { prefix: '', postfix: '#', host: '[2001:db8::1]:5080', uri: 'sip:+15551234567%23@[2001:db8::1]:5080' },
    { prefix: '', postfix: '', host: '2001:db8::1', uri: 'sip:+15551234567@[2001:db8::1]' },
    { prefix: '', postfix: '', host: '::1', uri: 'sip:+15551234567@[::1]' },
  ])('$prefix|$postfix @ $host → $uri', ({ prefix, postfix, host, uri }) => {
    expect(buildRequestUri({ tech_prefix: prefix, tech_postfix: postfix, hostname: host }, N)).toBe(uri);
  });
});

describe('buildRequestUri: leading_plus and transport', () => {
  it.each([
    { leading_plus: false, transport: 'udp', prefix: '9', uri: 'sip:915551234567@h.example:5080' },
    { leading_plus: true, transport: 'udp', prefix: '9', uri: 'sip:9+15551234567@h.example:5080' },
    { leading_plus: false, transport: 'tcp', prefix: '', uri: 'sip:15551234567@h.example:5080;transport=tcp' },
    { leading_plus: true, transport: 'tls', prefix: '', uri: 'sip:+15551234567@h.example:5080;transport=tls' },
  ] as const)('leading_plus $leading_plus, $transport, prefix $prefix → $uri', ({ leading_plus, transport, prefix, uri }) => {
    const provider = { tech_prefix: prefix, tech_postfix: '', hostname: 'h.example:5080', leading_plus, transport };
    expect(buildRequestUri(provider, N)).toBe(uri);
    expect(buildToUri(provider, N)).toBe(uri.replace(/;transport=\w+$/, ''));
  });

  it('the issue example: number +15551234567, prefix 9, leading_plus false → sip:915551234567@host', () => {
    expect(buildRequestUri({ tech_prefix: '9', tech_postfix: '', hostname: 'host', leading_plus: false }, N)).toBe('sip:915551234567@host');
  });
});

describe('escapeSipUser', () => {
  it.each([
    ['', ''],
    ['abcXYZ019', 'abcXYZ019'],
    ['#', '%23'],
    ['##', '%23%23'],
    ['%23', '%2523'],
    ['\t', '%09'],
    ['😀', '%F0%9F%98%80'],
  ])('%j → %j', (input, escaped) => {
    expect(escapeSipUser(input)).toBe(escaped);
  });
});

describe('formatHostport', () => {
  it.each([
    ['carrier.example.com', 'carrier.example.com'],
    ['carrier.example.com:5080', 'carrier.example.com:5080'],
    ['192.0.2.1:5060', '192.0.2.1:5060'],
    ['[2001:db8::1]:5060', '[2001:db8::1]:5060'],
    ['2001:db8::1', '[2001:db8::1]'],
    ['fe80::1:2:3:4', '[fe80::1:2:3:4]'],
  ])('%s → %s', (host, formatted) => {
    expect(formatHostport(host)).toBe(formatted);
  });
});
