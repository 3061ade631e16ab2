/** The real entry point (src/main.ts) as a process: SIGTERM drains displays and exits cleanly. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDirectory } from './support/memory-directory.ts';
import { startFakeApiV2, type FakeApiV2 } from './support/fake-api-v2.ts';
import { RawClient } from './support/raw-client.ts';
import { until } from './support/harness.ts';
import { serviceCredentialHeader, suiteServiceSecrets } from '../../../test/support/infra.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let api: FakeApiV2 | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await api?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('device-tcp process', () => {
  it('on SIGTERM: stops being ready, tells displays to reconnect, and exits 0 within the grace period', async () => {
    const directory = new MemoryDirectory();
    const displayId = randomUUID(); // api-v2 issues UUIDs
    directory.addDisplay(displayId, 's-1');
    api = await startFakeApiV2(directory);
    const [devicePort, opsPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['--conditions=marquee-source', '--import', 'tsx', 'services/device-tcp/src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(opsPort),
        DEVICE_HOST: '127.0.0.1',
        DEVICE_PORT: String(devicePort),
        API_V2_URL: api.url,
        SHUTDOWN_GRACE_MS: '4000',
        LOG_LEVEL: 'info',
        ...suiteServiceSecrets().env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await until(() => output.includes('device-tcp listening'), 20_000);

    const c = await RawClient.connect(devicePort);
    await c.hello(displayId, 's-1');
    child.kill('SIGTERM');
    const advice = await c.next('reconnect', 5_000);
    expect(advice).toMatchObject({ reason: 'draining' });
    const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`, { headers: serviceCredentialHeader('ops') });
    expect(ready.status).toBe(503);
    c.close(); // the display follows the advice
    // 0 only if the drain finished within the grace period (after it the process exits 1).
    expect(await exited).toBe(0);
    expect(output).not.toContain('grace period exceeded');
    await until(() => directory.presence.some((e) => e.kind === 'disconnected' && e.displayId === displayId));
  });
});
