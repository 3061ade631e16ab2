/**
 * onShutdown in a process of its own, stopped by SIGTERM: exit 0 only when every step finished;
 * a step that fails exits 1; steps that overrun the grace period are ended by its deadline, exit 1.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const script = path.join(import.meta.dirname, 'support', 'shutdown-process.ts');

/** Starts the script, waits for it to be ready, sends SIGTERM and resolves with its exit code and log lines. */
async function stopWithSigterm(step: 'done' | 'fails' | 'stuck', graceMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', script, step], {
    env: { PATH: process.env.PATH ?? '', SHUTDOWN_GRACE_MS: String(graceMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('"msg":"ready"')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`exited before it was ready:\n${output}`)));
  });
  child.kill('SIGTERM');
  const code = await exited;
  const logs = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number; graceMs?: number });
  return { code, logs, messages: logs.map((l) => l.msg) };
}

it('exits 0 when every step finished', async () => {
  const { code, messages } = await stopWithSigterm('done', 5_000);
  expect(code).toBe(0);
  expect(messages).toContain('shutdown complete');
});

it('exits 1 when a step failed, saying so', async () => {
  const { code, messages } = await stopWithSigterm('fails', 5_000);
  expect(code).toBe(1);
  expect(messages).toContain('shutdown incomplete; exiting 1');
  expect(messages).not.toContain('shutdown complete');
});

it('ends steps that overrun the grace period: exit 1, saying so', async () => {
  const { code, logs, messages } = await stopWithSigterm('stuck', 300);
  expect(code).toBe(1);
  expect(logs.find((l) => l.msg === 'shutdown grace period exceeded; exiting')).toMatchObject({ level: 50, graceMs: 300 });
  expect(messages).not.toContain('shutdown complete');
});
