/**
 * Certificates made for one test run with openssl (in a temp directory, removed by cleanup()):
 * a test CA, server certificates it signs, and a self-signed one no CA vouches for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** the CA certificate file (what OUTDIAL_SIP_TLS_CA names) */
  caFile: string;
  /** a certificate signed by the CA for these DNS names / IP addresses */
  issue(name: string, sans: string[]): CertFiles;
  /** a self-signed certificate for these names (no trusted CA signed it) */
  selfSigned(name: string, sans: string[]): CertFiles;
  read(file: string): Buffer;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function sanLine(sans: string[]): string {
  return sans.map((s) => (/^[\d.]+$|:/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'outdial-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=outdial test CA']);
  let n = 0;
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    issue(name, sans) {
      const base = `issued-${++n}`;
      writeFileSync(path.join(dir, `${base}.ext`), `subjectAltName=${sanLine(sans)}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
      openssl(dir, ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      openssl(dir, ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`]);
      return { cert: path.join(dir, `${base}.pem`), key: path.join(dir, `${base}.key`) };
    },
    selfSigned(name, sans) {
      const base = `self-${++n}`;
      openssl(dir, ['req', '-x509', ...ec, '-keyout', `${base}.key`, '-out', `${base}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${sanLine(sans)}`]);
      return { cert: path.join(dir, `${base}.pem`), key: path.join(dir, `${base}.key`) };
    },
    read: (file) => readFileSync(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
