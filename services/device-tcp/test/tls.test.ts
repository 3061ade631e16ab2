/**
 * Issue 13.4: device-tcp terminates TLS itself (DEVICE_TLS_PORT, key and certificate from files),
 * and a TLS connection is the same session as a plain one. Real sockets: a TLS display (the
 * display-client package, as the simulator and the kiosk player use it) completes hello →
 * welcome; one that checks the certificate refuses a wrong one before sending its secret.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { DisplayClient } from '@marquee/display-client';
import { ConfigError } from '@marquee/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSigned, type SelfSigned } from '../../../scripts/local/self-signed.ts';
import { suiteServiceSecrets } from '../../../test/support/infra.ts';
import { loadDeviceTcpConfig } from '../src/config.ts';
import { startDeviceTcp, type RunningDeviceTcp } from '../src/server.ts';
import { startFakeApiV2, type FakeApiV2 } from './support/fake-api-v2.ts';
import { until } from './support/harness.ts';
import { MemoryDirectory } from './support/memory-directory.ts';
import { RawClient } from './support/raw-client.ts';

let dir: string;
let served: SelfSigned;
let other: SelfSigned;
let directory: MemoryDirectory;
let api: FakeApiV2;
let device: RunningDeviceTcp;
const displayId = randomUUID();
const secret = 'tls-test-secret';

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    DEVICE_HOST: '127.0.0.1',
    DEVICE_PORT: '0',
    API_V2_URL: api.url,
    LOG_LEVEL: 'silent',
    SHUTDOWN_GRACE_MS: '2000',
    ...suiteServiceSecrets().env,
    ...overrides,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'marquee-device-tls-'));
  served = ensureSelfSigned(dir, 'served', { names: ['localhost', '127.0.0.1'] });
  other = ensureSelfSigned(dir, 'other', { names: ['localhost', '127.0.0.1'] });
  directory = new MemoryDirectory();
  directory.addDisplay(displayId, secret);
  api = await startFakeApiV2(directory);
  // PROXY v2 on the plain listener (a balancer in front of it), TLS straight from displays.
  device = await startDeviceTcp(
    loadDeviceTcpConfig(env({ PROXY_PROTOCOL: 'v2', DEVICE_TLS_PORT: '0', DEVICE_TLS_KEY_FILE: served.keyFile, DEVICE_TLS_CERT_FILE: served.certFile })),
  );
});
afterAll(async () => {
  await device?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

function display(tlsOptions: { ca?: string; pinSha256?: string }) {
  const client = new DisplayClient({ host: '127.0.0.1', port: device.deviceTlsPort, displayId, secret, reconnect: false, tls: tlsOptions });
  const log: string[] = [];
  client.on('log', (line: string) => log.push(line));
  return { client, log };
}

describe('device-tcp over TLS', () => {
  it('completes hello → welcome with a display that verifies the certificate against a CA', async () => {
    const authBefore = directory.calls.authenticate;
    const { client } = display({ ca: readPem(served.certFile) });
    try {
      await client.start();
      await until(() => client.state === 'online');
      expect(client.stats.welcomes).toBe(1);
      expect(directory.calls.authenticate).toBe(authBefore + 1);
      await until(() => device.server.sessionFor(displayId)?.isOpen);
    } finally {
      client.stop();
    }
  });

  it('completes hello → welcome with a display that pins the certificate fingerprint (openssl notation)', async () => {
    const { client } = display({ pinSha256: served.fingerprint });
    try {
      await client.start();
      await until(() => client.state === 'online');
      expect(client.stats.welcomes).toBe(1);
    } finally {
      client.stop();
    }
  });

  it('a display checking the certificate refuses a wrong one (wrong CA, wrong pin) before sending its hello', async () => {
    for (const [tlsOptions, refusal] of [
      [{ ca: readPem(other.certFile) }, /self.signed|unable to verify|certificate/i],
      [{ pinSha256: other.fingerprint }, /does not match the pinned one/],
    ] as const) {
      const authBefore = directory.calls.authenticate;
      const { client, log } = display(tlsOptions);
      try {
        await client.start();
        expect(client.state).not.toBe('online');
        expect(client.stats.welcomes).toBe(0);
        expect(log.join('\n')).toMatch(refusal);
        // The secret never reached the server: no hello was authenticated.
        expect(directory.calls.authenticate).toBe(authBefore);
      } finally {
        client.stop();
      }
    }
  });

  it('node:tls on its own agrees: the served certificate is the configured one', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: device.deviceTlsPort, ca: readPem(served.certFile), servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      expect(socket.getPeerX509Certificate()?.fingerprint256).toBe(served.fingerprint);
    } finally {
      socket.destroy();
    }
  });

  it('plain bytes on the TLS port are a failed handshake, not a session; the plain listener keeps PROXY v2', async () => {
    const connectionsBefore = device.server.connectionCount;
    const raw = await RawClient.connect(device.deviceTlsPort);
    raw.send({ type: 'hello', protocolVersion: 1, displayId, secret });
    await until(() => raw.closed);
    expect(device.server.connectionCount).toBe(connectionsBefore);
    // The plain listener still expects a PROXY header first: a bare hello is refused there.
    const plain = await RawClient.connect(device.devicePort);
    plain.send({ type: 'hello', protocolVersion: 1, displayId, secret });
    await until(() => plain.closed);
  });
});

describe('TLS configuration', () => {
  it('needs a port, a key and a certificate together, and names what is missing', () => {
    const base = { HOST: '127.0.0.1', API_V2_URL: 'http://127.0.0.1:1' };
    expect(() => loadDeviceTcpConfig({ ...base, DEVICE_TLS_PORT: '7443' })).toThrow(ConfigError);
    expect(() => loadDeviceTcpConfig({ ...base, DEVICE_TLS_PORT: '7443' })).toThrow(/DEVICE_TLS_KEY\(_FILE\): required[\s\S]*DEVICE_TLS_CERT\(_FILE\): required/);
    expect(() => loadDeviceTcpConfig({ ...base, DEVICE_TLS_KEY_FILE: served.keyFile, DEVICE_TLS_CERT_FILE: served.certFile })).toThrow(/DEVICE_TLS_PORT: required/);
    expect(loadDeviceTcpConfig(base).DEVICE_TLS_PORT).toBeUndefined();
  });

  it('refuses to start with a key that does not match the certificate', async () => {
    const config = loadDeviceTcpConfig(env({ DEVICE_TLS_PORT: '0', DEVICE_TLS_KEY_FILE: other.keyFile, DEVICE_TLS_CERT_FILE: served.certFile }));
    await expect(startDeviceTcp(config)).rejects.toThrow(/key values mismatch|KEY_VALUES_MISMATCH/i);
  });
});

const readPem = (file: string) => readFileSync(file, 'utf8');
