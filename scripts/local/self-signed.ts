/**
 * A self-signed certificate for the local launcher's TLS listener for displays (and for tests),
 * made by the `openssl` command line tool: Node can make keys but not X.509 certificates, and
 * openssl is on every Linux and macOS machine (and in Git for Windows), where a library would add
 * a dependency tree to the launcher for a certificate made once per data folder.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

export interface SelfSigned {
  keyFile: string;
  certFile: string;
  /** SHA-256 of the certificate (DER), as `openssl x509 -fingerprint -sha256` prints it: AB:CD:… */
  fingerprint: string;
}

/** The certificate's SHA-256 fingerprint in openssl's notation (upper-case hex pairs, colons). */
export function fingerprintOf(certPem: string | Buffer): string {
  return new X509Certificate(certPem).fingerprint256;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `<dir>/<name>.key` and `<dir>/<name>.crt`: an EC P-256 key and a certificate for `names`
 * (DNS names and IP addresses), valid `days`. Made once: an existing pair is returned as it is,
 * so the fingerprint displays have pinned stays the same across restarts.
 */
export function ensureSelfSigned(dir: string, name: string, opts: { names?: string[]; days?: number; commonName?: string } = {}): SelfSigned {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    const names = opts.names ?? ['localhost', '127.0.0.1', '::1'];
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    // Written beside the final names and renamed last: an interrupted run leaves no half pair.
    const tmpKey = `${keyFile}.tmp`;
    const tmpCert = `${certFile}.tmp`;
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmpKey, '-out', tmpCert, '-days', String(opts.days ?? 3650), '-subj', `/CN=${opts.commonName ?? 'marquee-local'}`, '-addext', `subjectAltName=${san}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    chmodSync(tmpKey, 0o600);
    renameSync(tmpCert, certFile);
    renameSync(tmpKey, keyFile);
  }
  return { keyFile, certFile, fingerprint: fingerprintOf(readFileSync(certFile)) };
}
