/** The simulator's command line (issue 17.4): clean errors, help, the secret never on argv or in output. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeServer, playlist } from '../../../packages/display-client/test/support/fake-server.ts';
import { UsageError, parseSimArgs } from '../cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'marquee-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs the simulator's main.ts like `npm run display -- …` does; resolves with its output. */
function run(args: string[], env: Record<string, string> = {}, until?: (out: string) => boolean) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', 'tools/display-sim/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, MARQUEE_DISPLAY_SECRET: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (until?.(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('display-sim command line', () => {
  it('answers an unknown flag with one clear line and the usage, no stack trace', async () => {
    const r = await run(['--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^display-sim: Unknown option '--bogus'/);
    expect(r.stderr).toContain('--secret-file PATH');
    expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at .*:\d+:\d+\)?$/m);
  });

  it('explains --speed in --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--speed X\s+load generation only: run the loop X times faster than real time/);
  });

  it.each([
    [['--secret', 'hunter2', '--id', 'd'], /--secret is not accepted/],
    [['--secret=hunter2', '--id', 'd'], /--secret is not accepted/],
    [['--id', 'd'], /no secret: give --secret-file PATH or set MARQUEE_DISPLAY_SECRET/],
    [['--id', 'd', '--secret-file', '/nonexistent/x'], /cannot read --secret-file \/nonexistent\/x: ENOENT/],
    [['--id', 'd', '--port', 'seven'], /--port must be an integer/],
    [['--id', 'd', '--speed', '0'], /--speed must be a positive number/],
    [['--id', 'd', '--pin', 'abc'], /--pin must be a SHA-256 fingerprint/],
    [['--count', '3'], /no secrets/],
  ])('refuses %j clearly', (argv, message) => {
    expect(() => parseSimArgs(argv, {})).toThrow(UsageError);
    expect(() => parseSimArgs(argv, {})).toThrow(message);
  });

  it('reads secrets from a file or the environment; {n} patterns for a fleet', () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'from-file\n');
    expect(parseSimArgs(['--id', 'd', '--secret-file', file], { MARQUEE_DISPLAY_SECRET: 'from-env' }).single).toEqual({ id: 'd', secret: 'from-file' });
    expect(parseSimArgs(['--id', 'd'], { MARQUEE_DISPLAY_SECRET: 'from-env' }).single).toEqual({ id: 'd', secret: 'from-env' });
    const fleet = parseSimArgs(['--count', '2', '--first', '5'], { MARQUEE_DISPLAY_SECRET: 'secret-{n}' }).fleet!;
    expect(fleet.credentials(5, 0)).toEqual(['sim-5', 'secret-5']);
  });

  it('sends the secret in hello but never prints it', async () => {
    server = await FakeServer.start();
    const secret = 'very-secret-value-42';
    const running = run(['--id', 'd-1', '--port', String(server.port), '--no-reconnect'], { MARQUEE_DISPLAY_SECRET: secret }, (out) => out.includes('playlist v1'));
    const conn = await server.connection(0, 20_000);
    const hello = await conn.welcome();
    expect(hello).toMatchObject({ type: 'hello', displayId: 'd-1', secret });
    conn.send({ type: 'playlist', playlist: playlist(1) });
    const r = await running;
    expect(r.stdout).toContain('welcome: session');
    expect(r.stdout + r.stderr).not.toContain(secret);
  }, 30_000);
});
