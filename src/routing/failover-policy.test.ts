import { describe, expect, it } from 'vitest';
import { createFailoverPolicy, parseStatusCodeList, TIMEOUT_STATUS } from './failover-policy.ts';

const DEFAULT_FAILOVER = '408,404,484,488,500-599,600-699';
const DEFAULT_NO_FAILOVER = '486,480,401,403,407,487,600,603,604,606';

describe('shouldFailover with the default lists', () => {
  const policy = createFailoverPolicy(DEFAULT_FAILOVER, DEFAULT_NO_FAILOVER);
  it.each([
    [408, true], [404, true], [484, true], [488, true],
    [500, true], [502, true], [503, true], [599, true],
    [601, true], [602, true], [605, true], [699, true],
    [486, false], [480, false], [401, false], [403, false], [407, false], [487, false],
    [600, false], [603, false], [604, false], [606, false],
    [400, false], [402, false], [410, false], [482, false], [491, false],
    [100, false], [180, false], [183, false], [200, false], [302, false],
    [0, false], [99, false], [700, false], [-1, false], [503.5, false], [Number.NaN, false],
  ])('%d → %s', (status, expected) => {
    expect(policy.shouldFailover(status)).toBe(expected);
  });

  it.each([
    [{ kind: 'timeout' } as const, true],
    [{ kind: 'transport-error' } as const, true],
    [{ kind: 'status', status: 503 } as const, true],
    [{ kind: 'status', status: 486 } as const, false],
  ])('%j → %s', (outcome, expected) => {
    expect(policy.shouldFailoverOutcome(outcome)).toBe(expected);
  });

  it('a timeout counts as 408', () => {
    expect(TIMEOUT_STATUS).toBe(408);
  });
});

describe('configured lists', () => {
  it.each([
    { fo: '500-599', nofo: '503', status: 503, expected: false, why: 'no-failover wins over a range' },
    { fo: '503', nofo: '500-599', status: 503, expected: false, why: 'no-failover range wins over a code' },
    { fo: '408', nofo: '408', status: 408, expected: false, why: 'in both lists' },
    { fo: '', nofo: '', status: 503, expected: false, why: 'empty lists never fail over' },
    { fo: '', nofo: '', status: 408, expected: false, why: 'timeout with empty lists does not fail over' },
    { fo: ' 486 , 480 ', nofo: '', status: 480, expected: true, why: 'spaces allowed' },
    { fo: '400-499', nofo: '486', status: 487, expected: true, why: 'range' },
    { fo: '100-699', nofo: '', status: 183, expected: true, why: 'provisional codes as configured' },
  ])('$why: $status → $expected', ({ fo, nofo, status, expected }) => {
    expect(createFailoverPolicy(fo, nofo).shouldFailover(status)).toBe(expected);
  });
});

describe('parseStatusCodeList', () => {
  it.each([
    ['', []],
    ['486', [486]],
    ['486,480', [486, 480]],
    ['500-503', [500, 501, 502, 503]],
    ['500 - 502, 404', [500, 501, 502, 404]],
    ['404,,404', [404]],
  ])('%j → %j', (text, codes) => {
    const r = parseStatusCodeList(text);
    expect(r.ok && [...r.codes]).toEqual(codes);
  });

  it.each(['5', '5000', '500-', '-500', '599-500', '099', '700', '600-700', '4o4', '500-599-600'])('%j is refused', (text) => {
    const r = parseStatusCodeList(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(text.split(',')[0]?.trim() ?? '');
  });

  it('createFailoverPolicy names the bad list', () => {
    expect(() => createFailoverPolicy('500-', '')).toThrow(/routing\.failoverCodes/);
    expect(() => createFailoverPolicy('', 'x')).toThrow(/routing\.noFailoverCodes/);
  });
});
