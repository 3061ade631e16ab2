/**
 * A private Mosquitto broker for the peer figures of T1 and T2: started by the bench on a spare
 * port with its own config file in a temporary directory (never the machine's shared broker),
 * stopped after. Without a `mosquitto` binary the peer is skipped, loudly, with how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './platform.ts';
import { progressDone } from './report.ts';

export const MOSQUITTO_INSTALL_HINT = 'apt-get install -y mosquitto';

export interface Mosquitto {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

function findBinary(): string | null {
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

/** Why the peer cannot run here, or null if it can. */
export function mosquittoMissing(): string | null {
  return findBinary() ? null : `mosquitto is not installed: the Mosquitto peer is SKIPPED (install it with \`${MOSQUITTO_INSTALL_HINT}\` and re-run)`;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}

/** Starts a broker on 127.0.0.1:<spare port>; null (after saying so) when mosquitto is missing. */
export async function startMosquitto(logFile: string): Promise<Mosquitto | null> {
  const binary = findBinary();
  if (!binary) {
    progressDone(`!!! ${mosquittoMissing()}`);
    return null;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'marquee-bench-mosquitto-'));
  const port = await freePort();
  const config = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_connections -1',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const version = spawnSync(binary, ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: child.pid!,
    version,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
