import { describe, expect, it } from 'vitest';
import { applyHeaderPolicy, createHeaderPolicy, isInternalHeader, userPartOf, type SipHeader } from './header-policy.ts';

const PLATFORM: SipHeader[] = [
  { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds' },
  { name: 'From', value: '"Alice" <sip:+15550001111@pbx.example.com>;tag=1928301774' },
  { name: 'To', value: '<sip:+15551234567@outdial.example.com>' },
  { name: 'Call-ID', value: 'a84b4c76e66710@pbx.example.com' },
  { name: 'CSeq', value: '314159 INVITE' },
  { name: 'Contact', value: '<sip:alice@192.0.2.10>' },
  { name: 'Max-Forwards', value: '70' },
  { name: 'X-Customer-Id', value: '5e4a0680-804e-11ec-8477-2fea5968d85b' },
  { name: 'X-Outdial-Trace', value: 'abc' },
  { name: 'P-Asserted-Identity', value: '<sip:+15550001111@pbx.example.com>' },
  { name: 'P-Asserted-Identity', value: '<tel:+15550001111>' },
  { name: 'Privacy', value: 'id' },
  { name: 'User-Agent', value: 'Asterisk PBX 20.5.0' },
  { name: 'X-Campaign', value: 'spring' },
  { name: 'Diversion', value: '<sip:+15559998888@pbx.example.com>;reason=unconditional' },
  { name: 'Content-Type', value: 'application/sdp' },
];

const names = (hs: readonly SipHeader[]): string[] => hs.map((h) => `${h.name}: ${h.value}`);

describe('applyHeaderPolicy', () => {
  it.each<{ name: string; techHeaders: Record<string, string>; pass: string[]; customerHeader?: string; expected: string[] }>([
    {
      name: 'default config: PAI (both) and Privacy only',
      techHeaders: {},
      pass: [],
      expected: [
        'P-Asserted-Identity: <sip:+15550001111@pbx.example.com>',
        'P-Asserted-Identity: <tel:+15550001111>',
        'Privacy: id',
      ],
    },
    {
      name: 'tech headers first, as given',
      techHeaders: { 'X-Account': '1234', 'P-Charge-Info': '<sip:+15550001111@carrier>' },
      pass: [],
      expected: [
        'X-Account: 1234',
        'P-Charge-Info: <sip:+15550001111@carrier>',
        'P-Asserted-Identity: <sip:+15550001111@pbx.example.com>',
        'P-Asserted-Identity: <tel:+15550001111>',
        'Privacy: id',
      ],
    },
    {
      name: 'passHeaders case-insensitive, in config order',
      techHeaders: {},
      pass: ['diversion', 'X-CAMPAIGN', 'X-Missing'],
      expected: [
        'P-Asserted-Identity: <sip:+15550001111@pbx.example.com>',
        'P-Asserted-Identity: <tel:+15550001111>',
        'Privacy: id',
        'Diversion: <sip:+15559998888@pbx.example.com>;reason=unconditional',
        'X-Campaign: spring',
      ],
    },
    {
      name: 'internal and dialog headers never pass even when listed',
      techHeaders: {},
      pass: ['X-Customer-Id', 'x-outdial-trace', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Type', 'User-Agent'],
      expected: [
        'P-Asserted-Identity: <sip:+15550001111@pbx.example.com>',
        'P-Asserted-Identity: <tel:+15550001111>',
        'Privacy: id',
        'User-Agent: Asterisk PBX 20.5.0',
      ],
    },
    {
      name: 'a configured customer header is internal',
      techHeaders: {},
      pass: ['X-Campaign'],
      customerHeader: 'x-campaign',
      expected: [
        'P-Asserted-Identity: <sip:+15550001111@pbx.example.com>',
        'P-Asserted-Identity: <tel:+15550001111>',
        'Privacy: id',
      ],
    },
    {
      name: 'a tech header replaces the platform header of the same name',
      techHeaders: { 'p-asserted-identity': '<sip:+15557770000@carrier>' },
      pass: [],
      expected: ['p-asserted-identity: <sip:+15557770000@carrier>', 'Privacy: id'],
    },
  ])('$name', ({ techHeaders, pass, customerHeader, expected }) => {
    const policy = createHeaderPolicy({ customerHeader: customerHeader ?? 'X-Customer-Id', passHeaders: pass });
    const out = applyHeaderPolicy(policy, PLATFORM, { tech_headers: techHeaders });
    expect(names(out.headers)).toEqual(expected);
    expect(out.fromUser).toBe('+15550001111');
    for (const h of out.headers) expect(h.name.toLowerCase()).not.toMatch(/^x-(customer-id|outdial-)/);
  });

  it('works with a getter (drachtio req.get) as well as a list', () => {
    const policy = createHeaderPolicy({ customerHeader: 'X-Customer-Id', passHeaders: ['Diversion', 'X-Customer-Id'] });
    const byName = new Map(PLATFORM.map((h) => [h.name.toLowerCase(), h.value]));
    const get = (name: string): string | undefined => byName.get(name.toLowerCase());
    const out = applyHeaderPolicy(policy, get, { tech_headers: { 'X-Account': '7' } });
    expect(names(out.headers)).toEqual([
      'X-Account: 7',
      'P-Asserted-Identity: <tel:+15550001111>',
      'Privacy: id',
      'Diversion: <sip:+15559998888@pbx.example.com>;reason=unconditional',
    ]);
    expect(out.fromUser).toBe('+15550001111');
  });

  it.each<[string, SipHeader[], string | null]>([
    ['compact From (f:)', [{ name: 'f', value: '<sip:1000@pbx>;tag=x' }], '1000'],
    ['no From', [], null],
    ['anonymous', [{ name: 'From', value: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x' }], 'anonymous'],
  ])('From user: %s', (_label, headers, fromUser) => {
    const policy = createHeaderPolicy({ customerHeader: 'X-Customer-Id', passHeaders: [] });
    expect(applyHeaderPolicy(policy, headers, { tech_headers: {} })).toEqual({ fromUser, headers: [] });
  });
});

describe('userPartOf', () => {
  it.each([
    ['"Alice" <sip:+15550001111@pbx.example.com>;tag=1', '+15550001111'],
    ['<sip:alice@pbx.example.com:5060;transport=tcp>;tag=1', 'alice'],
    ['sip:bob@pbx.example.com;tag=1', 'bob'],
    ['<sips:carol:secret@pbx.example.com>', 'carol'],
    ['<sip:%2B1555%20000@pbx>', '%2B1555%20000'],
    ['<sip:+15550001111;npdi@pbx;user=phone>', '+15550001111;npdi'],
    ['<tel:+1-555-000-1111;phone-context=example.com>', '+1-555-000-1111'],
    ['"Display, Name" <SIP:dave@pbx>', 'dave'],
  ])('%s → %s', (value, user) => {
    expect(userPartOf(value)).toBe(user);
  });

  it.each(['<sip:pbx.example.com>', 'garbage', '<sip:alice@pbx', '<mailto:a@b>', '<sip:@pbx>', '', '<tel:>'])('%j → null', (value) => {
    expect(userPartOf(value)).toBeNull();
  });
});

describe('isInternalHeader', () => {
  const policy = createHeaderPolicy({ customerHeader: 'X-Customer-Id', passHeaders: [] });
  it.each([
    ['X-Customer-Id', true],
    ['x-customer-id', true],
    ['X-Outdial-Anything', true],
    ['X-Campaign', false],
    ['P-Asserted-Identity', false],
  ])('%s → %s', (name, internal) => {
    expect(isInternalHeader(policy, name)).toBe(internal);
  });
});
