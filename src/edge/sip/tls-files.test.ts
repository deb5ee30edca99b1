import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTlsFiles } from './tls-files.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'outdial-tls-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('loadTlsFiles', () => {
  it('without files: no listener, the default trusted roots', () => {
    const t = loadTlsFiles({});
    expect(t.listen).toBeUndefined();
    expect(t.ca?.length).toBeGreaterThan(100);
  });

  it('adds the CA file to the trusted roots and reads the listener files', () => {
    const t = loadTlsFiles({ tlsCa: file('ca.pem', CERT), tlsCert: file('c.pem', CERT), tlsKey: file('k.pem', KEY), tlsPort: 0 });
    expect(t.ca?.some((c) => c.toString() === CERT)).toBe(true);
    expect(t.listen?.port).toBe(0);
    expect(t.listen?.key.toString()).toBe(KEY);
  });

  it.each([
    [{ tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' }, /OUTDIAL_SIP_TLS_CERT: cannot read \/nonexistent\/cert\.pem/],
    [{ tlsCa: path.join(dir, 'missing.pem') }, /OUTDIAL_SIP_TLS_CA: cannot read/],
    [{ tlsCa: 'PLACEHOLDER_NOT_PEM' }, /OUTDIAL_SIP_TLS_CA: .* holds no PEM CERTIFICATE/],
    [{ tlsCert: 'PLACEHOLDER_CERT' }, /must be given together/],
  ])('refuses %j with a clear message', (config, message) => {
    const c = { ...config } as Record<string, string>;
    if (c.tlsCa === 'PLACEHOLDER_NOT_PEM') c.tlsCa = file('not-pem.txt', 'hello');
    if (c.tlsCert === 'PLACEHOLDER_CERT') c.tlsCert = file('only-cert.pem', CERT);
    expect(() => loadTlsFiles(c)).toThrow(message);
  });
});
