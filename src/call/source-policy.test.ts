import { describe, expect, it } from 'vitest';
import { SourcePolicy } from './source-policy.ts';

describe('SourcePolicy', () => {
  const policy = new SourcePolicy(['127.0.0.0/8', '::1/128', '10.1.2.3', '192.168.0.0/16']);

  it.each([
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.1.2.3', true],
    ['10.1.2.4', false],
    ['192.168.44.1', true],
    ['8.8.8.8', false],
    ['2001:db8::1', false],
    ['not-an-ip', false],
    ['', false],
  ])('%s → %s', (address, trusted) => {
    expect(policy.isTrusted(address)).toBe(trusted);
  });

  it('refuses a malformed CIDR at construction', () => {
    expect(() => new SourcePolicy(['10.0.0.0/99'])).toThrow(/not an IP address or CIDR/);
    expect(() => new SourcePolicy(['example.com'])).toThrow(/not an IP address or CIDR/);
  });
});
