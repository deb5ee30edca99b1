import { describe, expect, it } from 'vitest';
import { ALLOW_IN_DIALOG, ALLOW_OUTSIDE_DIALOG, refuseMethod, relayReliably, reliableProvisionals, unsupportedRequires } from './capabilities.ts';
import { nextMaxForwards } from './max-forwards.ts';

describe('refuseMethod', () => {
  it('405 with Allow for a method outdial does not take outside a dialog', () => {
    expect(refuseMethod('MESSAGE', '<sip:outdial@192.0.2.1>', false)).toEqual({ status: 405, headers: { Allow: ALLOW_OUTSIDE_DIALOG } });
    expect(refuseMethod('REGISTER', undefined, false).status).toBe(405);
  });

  it.each(['BYE', 'UPDATE', 'PRACK', 'INFO'])('481 for %s, which exists only inside a dialog, even without a To tag', (method) => {
    expect(refuseMethod(method, '<sip:outdial@192.0.2.1>', false)).toEqual({ status: 481, headers: {} });
  });

  it('481 for a request naming a dialog that does not exist here (a To tag, or one the stack placed in a dialog)', () => {
    expect(refuseMethod('MESSAGE', '<sip:outdial@192.0.2.1>;tag=abc', false)).toEqual({ status: 481, headers: {} });
    expect(refuseMethod('SUBSCRIBE', '<sip:outdial@192.0.2.1>', true)).toEqual({ status: 481, headers: {} });
  });

  it('the Allow lists never name REFER, which outdial refuses', () => {
    expect(ALLOW_IN_DIALOG).not.toMatch(/REFER/);
    expect(ALLOW_OUTSIDE_DIALOG).not.toMatch(/REFER/);
  });
});

describe('unsupportedRequires', () => {
  it.each([
    [undefined, []],
    ['timer', []],
    ['Timer, replaces', ['replaces']],
    ['100rel,foo, 100rel', ['foo']],
    ['100rel, timer', []],
  ])('%s → %o', (value, expected) => {
    expect(unsupportedRequires(value)).toEqual(expected);
  });
});

describe('reliable provisionals (RFC 3262 §3)', () => {
  it.each([
    [undefined, undefined, 'none'],
    ['timer', undefined, 'none'],
    ['timer, 100REL', undefined, 'supported'],
    [undefined, '100rel', 'required'],
    ['100rel', 'timer, 100rel', 'required'],
  ] as const)('Supported %s, Require %s → %s', (supported, require, expected) => {
    expect(reliableProvisionals(supported, require)).toBe(expected);
  });

  it('relays reliably when the platform requires it, or supports it and the carrier sent it reliably', () => {
    expect(relayReliably('required', undefined)).toBe(true);
    expect(relayReliably('supported', '100rel')).toBe(true);
    expect(relayReliably('supported', undefined)).toBe(false);
    expect(relayReliably('none', '100rel')).toBe(false);
  });
});

describe('nextMaxForwards (RFC 7332 §3)', () => {
  it.each([
    ['70', 69],
    ['1', 0],
    [' 5 ', 4],
    ['0', undefined],
    ['255', 69],
    [undefined, 69],
    ['x', 69],
  ])('%s → %s', (value, expected) => {
    expect(nextMaxForwards(value)).toBe(expected);
  });
});
