import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import { isReservedHeader, normalizeCodecs, parseHostPort, validateHostname, validateTechHeaders } from '../../src/admin/provider-fields.ts';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.reason : 'not an ApiError';
  }
}

describe('hostname', () => {
  it.each([
    'sip.telnyx.com', 'test.com', 'localhost', 'a-b.example.org:5080', '192.0.2.10', '192.0.2.10:5061', '[2001:db8::1]',
    '[2001:db8::1]:5060', 'sip.example.com:1', 'sip.example.com:65535', 'xn--bcher-kva.example', '1st.example.com',
  ])('accepts %s', (h) => {
    expect(validateHostname(h)).toBe(h);
  });

  it.each([
    '', 'sip example.com', 'sip.example.com:0', 'sip.example.com:65536', 'sip.example.com:', 'sip.example.com:abc', '-bad.example.com',
    'bad-.example.com', 'under_score.example.com', '2001:db8::1', '[2001:db8::1', '[not-ip]', '[fe80::1%eth0]', '999.1.1.1', '1.2.3',
    'sip.example.com/path', 'user@sip.example.com', 'sip.example..com', `${'a'.repeat(64)}.com`, 'a.b.c.123', 'sip.example.com.',
  ])('refuses %j with INVALID_HOSTNAME', (h) => {
    expect(reasonOf(() => validateHostname(h))).toBe('INVALID_HOSTNAME');
  });

  it('splits host and port', () => {
    expect(parseHostPort('203.0.113.5:5070')).toEqual({ host: '203.0.113.5', port: 5070 });
    expect(parseHostPort('[::1]')).toEqual({ host: '[::1]', port: undefined });
  });
});

describe('codecs', () => {
  it.each([
    ['', ''],
    ['PCMU,PCMA', 'PCMU,PCMA'],
    ['PCMU, PCMA', 'PCMU,PCMA'],
    [' PCMU ,PCMA ,G729 ', 'PCMU,PCMA,G729'],
    ['telephone-event', 'telephone-event'],
    ['opus', 'opus'],
    [`${'A'.repeat(255)}`, 'A'.repeat(255)],
  ])('normalizes %j to %j', (input, out) => {
    expect(normalizeCodecs(input)).toBe(out);
  });

  it.each(['a,,b', ',PCMU', 'PCMU,', 'PC MU', 'A'.repeat(256), '   ', 'PCMU\tPCMA', 'PCMÜ'])('refuses %j with INVALID_CODECS', (input) => {
    expect(reasonOf(() => normalizeCodecs(input))).toBe('INVALID_CODECS');
  });
});

describe('tech_headers', () => {
  it.each(['Via', 'via', 'FROM', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Route', 'Record-Route',
    'v', 'f', 't', 'i', 'm', 'l', 'c', 'X-Customer-Id', 'x-customer-id', 'X-Outdial-Attempt', 'x-outdial-anything'])(
    'refuses the reserved name %s',
    (name) => {
      expect(isReservedHeader(name, 'X-Customer-Id')).toBe(true);
      expect(reasonOf(() => validateTechHeaders({ [name]: 'x' }, 'X-Customer-Id'))).toBe('INVALID_TECH_HEADERS');
    },
  );

  it('accepts ordinary headers and keeps them as given', () => {
    expect(validateTechHeaders({ 'X-Account': '42', 'P-Asserted-Identity': '<sip:+15551234567@example.com>' }, 'X-Customer-Id')).toEqual({
      'X-Account': '42',
      'P-Asserted-Identity': '<sip:+15551234567@example.com>',
    });
  });

  it('refuses CR/LF in a value and the same name twice in different case', () => {
    expect(reasonOf(() => validateTechHeaders({ 'X-A': 'a\r\nVia: evil' }, 'X-Customer-Id'))).toBe('INVALID_TECH_HEADERS');
    expect(reasonOf(() => validateTechHeaders({ 'X-A': '1', 'x-a': '2' }, 'X-Customer-Id'))).toBe('INVALID_TECH_HEADERS');
  });
});
