import { describe, expect, it } from 'vitest';
import { normalizeDestination } from './number.ts';

describe('normalizeDestination', () => {
  it.each([
    ['sip:+15551234567@outdial.example.com', '+15551234567'],
    ['sip:+15551234567@outdial.example.com;user=phone', '+15551234567'],
    ['sips:+15551234567@outdial.example.com:5061;transport=tls', '+15551234567'],
    ['SIP:+442071234567@10.0.0.1', '+442071234567'],
    ['sip:+1-555-123-4567@host;user=phone', '+15551234567'],
    ['sip:+1.555.123.4567@host', '+15551234567'],
    ['sip:+1(555)123-4567@host', '+15551234567'],
    ['sip:+1%20555%20123%204567@host', '+15551234567'],
    ['sip:%2B15551234567@host', '+15551234567'],
    ['sip:+1%2D555%2D1234567@host', '+15551234567'],
    ['sip:+15551234567;isub=1234@host;user=phone', '+15551234567'],
    ['sip:+15551234567:secret@host', '+15551234567'],
    ['sip:+15551234567@[2001:db8::1]:5060', '+15551234567'],
    ['tel:+15551234567', '+15551234567'],
    ['tel:+1-555-123-4567;phone-context=example.com', '+15551234567'],
    ['TEL:+82-2-1234-5678', '+82212345678'],
    ['  sip:+15551234567@host  ', '+15551234567'],
    ['sip:+1@host', '+1'],
    ['sip:+123456789012345@host', '+123456789012345'],
  ])('%s → %s', (uri, number) => {
    expect(normalizeDestination(uri)).toEqual({ ok: true, number });
  });

  it.each([
    ['sip:15551234567@host', 'no + (national numbers are not guessed)'],
    ['sip:0015551234567@host', 'international prefix instead of +'],
    ['tel:5551234', 'local tel: number'],
    ['sip:+1234567890123456@host', '16 digits'],
    ['sip:+@host', 'no digits'],
    ['sip:+1555abc@host', 'letters'],
    ['sip:alice@host', 'a name'],
    ['sip:+1555*12@host', 'star'],
    ['sip:+1555%23@host', 'escaped #'],
    ['sip:++15551234567@host', 'double +'],
    ['sip:+1555+1234@host', 'inner +'],
    ['sip:+1555%ZZ@host', 'bad escape'],
    ['sip:+1555%@host', 'truncated escape'],
    ['sip:host.example.com', 'no user part'],
    ['sip:@host', 'empty user part'],
    ['sip:-.()@host', 'separators only'],
    ['mailto:+15551234567@host', 'other scheme'],
    ['+15551234567', 'no scheme'],
    ['', 'empty'],
    ['sip:+1555\t1234@host', 'tab is not a separator'],
  ])('%s → 484 (%s)', (uri) => {
    const r = normalizeDestination(uri);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(484);
      expect(r.reason.length).toBeGreaterThan(0);
    }
  });
});
