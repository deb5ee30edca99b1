import { describe, expect, it } from 'vitest';
import { indexHeaders, ROUTABLE_METHODS, sendableStatus } from './srf-adapter.ts';

describe('indexHeaders', () => {
  // srf's header table for a received message: names as its parser left them, string values
  const headers = indexHeaders({
    headers: {
      'call-id': 'abc@192.0.2.1',
      'X-Customer-Id': '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60',
      'P-Asserted-Identity': '<sip:+15550001111@pbx>,<tel:+15550001111>',
      x: '1800;refresher=uac',
      supported: 'timer',
      k: '100rel',
      'max-forwards': '70',
      // a parsed (non-string) value is not a header value
      via: [{ host: '192.0.2.1' }],
    },
  });

  it('finds headers case-insensitively and by compact form', () => {
    expect(headers.get('Call-ID')).toBe('abc@192.0.2.1');
    expect(headers.get('i')).toBe('abc@192.0.2.1');
    expect(headers.get('x-customer-id')).toBe('6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60');
    expect(headers.get('Session-Expires')).toBe('1800;refresher=uac');
    expect(headers.get('MAX-FORWARDS')).toBe('70');
  });

  it('joins a header given in long and compact form, as srf joins repeats', () => {
    expect(headers.get('Supported')).toBe('timer,100rel');
  });

  it('has() and get() agree on absent headers', () => {
    expect(headers.has('Min-SE')).toBe(false);
    expect(headers.get('Min-SE')).toBeUndefined();
    expect(headers.has('via')).toBe(false);
    expect(headers.has('p-asserted-identity')).toBe(true);
  });
});

describe('sendableStatus', () => {
  it.each([
    [486, 'Rejected', 486, 'Rejected'],
    [183, 'Session Progress', 183, 'Session Progress'],
    [199, 'Early Dialog Terminated', 199, 'Early Dialog Terminated'],
    [608, 'Rejected', 600, undefined],
    [607, 'Unwanted', 600, undefined],
    [499, 'Odd', 400, undefined],
    [599, 'Odd', 500, undefined],
    [189, 'Odd', 183, undefined],
    [799, 'Odd', 500, undefined],
  ])('%d %s → %d', (status, reason, out, outReason) => {
    expect(sendableStatus(status, reason)).toEqual({ status: out, reason: outReason });
  });
});

describe('ROUTABLE_METHODS', () => {
  it('is the method list srf builds its routers from', () => {
    expect(ROUTABLE_METHODS).toEqual(expect.arrayContaining(['INVITE', 'REGISTER', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH', 'NOTIFY', 'REFER', 'INFO', 'OPTIONS']));
  });
});
