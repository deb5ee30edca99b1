import { describe, expect, it } from 'vitest';
import { findBadString, trimAt } from './string-checks.ts';

describe('findBadString', () => {
  it.each([
    [{ name: 'ok', tech_headers: { 'X-A': 'Zürich 📞' } }, undefined],
    [{ name: 'a\nb' }, 'body.name contains the control character U+000A'],
    [{ detail: '\u0085' }, 'body.detail contains the control character U+0085'],
    [{ tech_headers: { 'X-A': 'a\ud800' } }, 'body.tech_headers.X-A contains a lone UTF-16 surrogate'],
    [{ tech_headers: { 'X-A': '\udc00b' } }, 'body.tech_headers.X-A contains a lone UTF-16 surrogate'],
    [{ name: 'bad \ufffd byte' }, 'body.name contains invalid UTF-8 (or U+FFFD)'],
    [{ list: ['fine', 'x\u0000'] }, 'body.list[1] contains the control character U+0000'],
    [{ 'k\u0001': 'v' }, 'body key has a key that contains the control character U+0001'],
  ])('%j → %s', (body, expected) => {
    const bad = findBadString(body);
    expect(bad === undefined ? undefined : `${bad.path} ${bad.problem}`).toBe(expected);
  });

  it('names the top-level field for the field reason', () => {
    expect(findBadString({ tech_headers: { 'X-A': 'x\ty' } })?.field).toBe('tech_headers');
  });

  it('walks any nesting depth without recursion', () => {
    let deep: unknown = 'x\u0007';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findBadString(deep)?.problem).toMatch(/U\+0007/);
  });
});

describe('trimAt', () => {
  it('trims a nested string in place and leaves everything else', () => {
    const body = { credentials: { api_key: ' \tKEY\r\n' }, name: ' n ' };
    trimAt(body, 'credentials.api_key');
    expect(body).toEqual({ credentials: { api_key: 'KEY' }, name: ' n ' });
    trimAt({ credentials: 'not an object' }, 'credentials.api_key');
    trimAt(undefined, 'credentials.api_key');
  });
});
