/** The player's command line: required flags, clean errors, the secret only from a file or the environment. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlayerArgs } from '../src/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'marquee-player-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secretFile = path.join(dir, 'secret');
writeFileSync(secretFile, 's3cret\n');
const base = ['--server', '127.0.0.1:7000', '--display-id', 'd-1'];

describe('player command line', () => {
  it('builds the configuration from flags, the secret from a file or MARQUEE_DISPLAY_SECRET', () => {
    const args = parsePlayerArgs([...base, '--secret-file', secretFile, '--headless', '--window', '800x600', '--data-dir', dir, '--pin', 'AB:'.repeat(31) + 'AB'], {});
    expect(args).toMatchObject({ help: false, host: '127.0.0.1', port: 7000, displayId: 'd-1', secret: 's3cret', headless: true, width: 800, height: 600, dataDir: dir, tls: { pinSha256: 'AB:'.repeat(31) + 'AB' } });
    expect(parsePlayerArgs(base, { MARQUEE_DISPLAY_SECRET: 'from-env', XDG_STATE_HOME: '/var/lib/x' })).toMatchObject({ secret: 'from-env', dataDir: '/var/lib/x/marquee-player', chromiumPath: '/usr/bin/chromium' });
  });

  it.each([
    [[...base, '--secret', 'x'], /--secret is not accepted/],
    [['--display-id', 'd'], /--server HOST:PORT is required/],
    [['--server', 'nohost', '--display-id', 'd'], /--server HOST:PORT is required/],
    [['--server', 'h:70000', '--display-id', 'd'], /port must be 1–65535/],
    [['--server', 'h:7000'], /--display-id is required/],
    [base, /no secret/],
    [[...base, '--secret-file', '/nope'], /cannot read --secret-file \/nope: ENOENT/],
    [[...base, '--secret-file', secretFile, '--window', 'big'], /--window must be WIDTHxHEIGHT/],
    [[...base, '--secret-file', secretFile, '--pin', 'xyz'], /--pin must be a SHA-256 fingerprint/],
    [[...base, '--frobnicate'], /Unknown option '--frobnicate'/],
  ])('refuses %j clearly', (argv, message) => {
    expect(() => parsePlayerArgs(argv, {})).toThrow(message);
  });

  it('prints one clear line and the usage for a bad flag, no stack trace', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', 'players/kiosk/src/main.ts', '--bogus'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MARQUEE_DISPLAY_SECRET: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^marquee-player: Unknown option '--bogus'/);
    expect(r.stderr).toContain('--secret-file PATH');
    expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at .*:\d+:\d+\)?$/m);
  });
});
