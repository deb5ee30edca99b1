/**
 * TLS material from configuration (docs/edge-transport.md §2): the listener's certificate chain
 * and key, and the CAs outgoing connections trust: Node's bundled roots, the operating system's
 * bundle when there is one, and OUTDIAL_SIP_TLS_CA (a PEM file, for private CAs). A file that
 * cannot be read or holds no PEM stops the start with a message naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { SipTlsOptions } from './transport.ts';

export interface TlsFileConfig {
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** Where Debian/Ubuntu/Alpine and Fedora/RHEL keep the system CA bundle. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

export function loadTlsFiles(c: TlsFileConfig): SipTlsOptions {
  const ca: Array<string | Buffer> = [...tls.rootCertificates];
  const system = SYSTEM_BUNDLES.find((f) => existsSync(f));
  if (system) ca.push(readFileSync(system));
  if (c.tlsCa) ca.push(readPem(c.tlsCa, 'OUTDIAL_SIP_TLS_CA', 'CERTIFICATE'));
  const out: SipTlsOptions = { ca };
  const cert = c.tlsCert ?? '';
  const key = c.tlsKey ?? '';
  if ((cert === '') !== (key === '')) throw new Error('OUTDIAL_SIP_TLS_CERT and OUTDIAL_SIP_TLS_KEY must be given together');
  if (cert !== '') {
    out.listen = { port: c.tlsPort ?? 5061, cert: readPem(cert, 'OUTDIAL_SIP_TLS_CERT', 'CERTIFICATE'), key: readPem(key, 'OUTDIAL_SIP_TLS_KEY', 'PRIVATE KEY') };
  }
  return out;
}

function readPem(file: string, what: string, label: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new Error(`${what}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!data.toString('latin1').includes(`-----BEGIN`) || !data.toString('latin1').includes(label)) {
    throw new Error(`${what}: ${file} holds no PEM ${label}`);
  }
  return data;
}
