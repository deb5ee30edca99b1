import { describe, expect, it } from 'vitest';
import { redactUrl } from './log-redaction.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu';

describe('redactUrl', () => {
  it.each([
    ['/v1.0/providers', '/v1.0/providers'],
    ['/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1', '/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1'],
    ['/v1.0/providers?page_size=5&page_token=2026-04-23T10:00:00.000000Z', '/v1.0/providers?page_size=5&page_token=2026-04-23T10:00:00.000000Z'],
    ['/v1.0/dialroutes?target=%2B15551234567&customer_id=6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60', '/v1.0/dialroutes?target=+15551234567&customer_id=6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60'],
    [`/v1.0/providers?token=${JWT}`, '/v1.0/providers?token=[redacted]'],
    [`/v1.0/providers?%74oken=${JWT}`, '/v1.0/providers?token=[redacted]'],
    [`/v1.0/providers?TOKEN=${JWT}`, '/v1.0/providers?TOKEN=[redacted]'],
    [`/v1.0/providers?accesskey=od_abc&x=1`, '/v1.0/providers?accesskey=[redacted]&x=[redacted]'],
    [`/v1.0/providers?page_token=${JWT}`, '/v1.0/providers?page_token=[redacted]'],
    [`/v1.0/providers?${JWT}`, '/v1.0/providers?[redacted]=[redacted]'],
    [`/v1.0/${JWT}`, '/v1.0/[redacted]'],
    ['/v1.0/od_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG', '/v1.0/[redacted]'],
    ['/v1.0/providers/%zz?token=%zz', '/v1.0/providers/[redacted]?token=[redacted]'],
    ['/v1.0/providers?constructor=1&__proto__=2', '/v1.0/providers?constructor=[redacted]&__proto__=[redacted]'],
    ['/v1.0/providers#token=abc', '/v1.0/providers'],
    ['http://host/v1.0/providers?token=abc', '[redacted]'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
