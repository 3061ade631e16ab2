/**
 * Where a display's secret comes from: a file (e.g. a systemd credential or Docker secret) or
 * the MARQUEE_DISPLAY_SECRET environment variable — never the command line, where `ps`, shell
 * history and npm's echo of the command would show it.
 */
import { readFileSync } from 'node:fs';

export const SECRET_ENV = 'MARQUEE_DISPLAY_SECRET';

export class SecretError extends Error {
  override name = 'SecretError';
}

/** Reads the secret from `file` (one trailing newline ignored) or, without a file, from the environment; null if neither. */
export function readDisplaySecret(file: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretError(`cannot read --secret-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const secret = text.replace(/\r?\n$/, '');
    if (!secret) throw new SecretError(`--secret-file ${file} is empty`);
    return secret;
  }
  return env[SECRET_ENV] || null;
}

/** True if argv tries to pass a secret on the command line. */
export function secretOnCommandLine(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--secret' || a.startsWith('--secret='));
}
