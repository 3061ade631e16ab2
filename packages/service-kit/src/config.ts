import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates configuration once, at start-up. Every variable `X` may instead be given
 * as `X_FILE` naming a file that holds the value (Docker secrets); giving both is an error.
 * Failures name every bad variable in one message.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const raw: Record<string, string | undefined> = {};
  const problems: string[] = [];
  for (const name of Object.keys(shape)) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && direct !== '' && file) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    if (file) {
      try {
        raw[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      continue;
    }
    raw[name] = direct === '' ? undefined : direct;
  }
  const parsed = z.object(shape).safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      const shown = raw[name] === undefined ? 'missing' : 'invalid';
      problems.push(`${name}: ${shown} — ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return parsed.data as z.infer<z.ZodObject<S>>;
}

/** Reusable field schemas for env values (always strings on input). */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback),
  url: () => z.string().url(),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Settings every service shares. */
export const commonConfigShape = {
  HOST: z.string().default('0.0.0.0'),
  PORT: env.port(3000),
  LOG_LEVEL: env.logLevel(),
  SHUTDOWN_GRACE_MS: env.int(10_000, 0, 600_000),
};
