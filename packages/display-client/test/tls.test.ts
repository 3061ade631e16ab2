/** TLS (spec D.10): the display verifies the server by CA or by a pinned certificate fingerprint. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient } from '../src/client.ts';
import { FakeServer, until } from './support/fake-server.ts';

interface Cert {
  key: string;
  cert: string;
  /** as `openssl x509 -fingerprint -sha256` prints it: AB:CD:… */
  fingerprint: string;
}

let dir: string;
let good: Cert;
let other: Cert;

function makeCert(name: string): Cert {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=marquee-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1]!.trim();
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), fingerprint };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'marquee-tls-'));
  good = makeCert('good');
  other = makeCert('other');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: FakeServer;
const clients: DisplayClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await server?.close();
});

function client(tls: ConstructorParameters<typeof DisplayClient>[0]['tls']) {
  const c = new DisplayClient({ host: '127.0.0.1', port: server.port, displayId: 'd-1', secret: 's-1', reconnect: false, tls });
  const log: string[] = [];
  c.on('log', (l) => log.push(l));
  clients.push(c);
  return { c, log };
}

describe('TLS', () => {
  it('connects to a server whose certificate chains to the given CA', async () => {
    server = await FakeServer.start({ key: good.key, cert: good.cert });
    const { c } = client({ ca: good.cert });
    await c.start();
    await (await server.connection()).welcome();
    await until('online', () => c.state === 'online');
  });

  it('connects to a self-signed server whose fingerprint is pinned (openssl notation or plain hex)', async () => {
    server = await FakeServer.start({ key: good.key, cert: good.cert });
    const pins = [good.fingerprint, good.fingerprint.replaceAll(':', '').toLowerCase()];
    for (const [i, pin] of pins.entries()) {
      const { c } = client({ pinSha256: pin });
      await c.start();
      const conn = await server.connection(i);
      await conn.welcome();
      await until('online', () => c.state === 'online');
    }
  });

  it('refuses a server with another certificate before sending anything (pin mismatch, CA mismatch, no CA)', async () => {
    server = await FakeServer.start({ key: other.key, cert: other.cert });
    const cases = [{ pinSha256: good.fingerprint }, { ca: good.cert }, {}];
    for (const tls of cases) {
      const { c, log } = client(tls);
      await c.start();
      expect(c.state).toBe('waiting');
      expect(c.stats.welcomes).toBe(0);
      expect(log.join('\n')).toMatch(tls.pinSha256 ? /does not match the pinned one/ : /self.signed|unable to verify|certificate/i);
    }
    // The server never saw a hello: the secret was not sent to a server we could not verify.
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections.flatMap((k) => k.received)).toEqual([]);
  });

  it('rejects a malformed pin when the client is made, not at every reconnect', () => {
    expect(() => new DisplayClient({ host: 'x', port: 1, displayId: 'd', secret: 's', tls: { pinSha256: 'abc' } })).toThrow(/64 hex digits/);
  });
});
