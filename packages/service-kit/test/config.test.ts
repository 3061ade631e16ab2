import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadConfig } from '../src/index.ts';

const shape = { PORT: env.port(3000), DATABASE_URL: z.string().url(), SECRET: z.string().min(4) };

describe('loadConfig', () => {
  it('reads values, applies defaults and reads X_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'secret'), 's3cret-value\n');
    const config = loadConfig(shape, { DATABASE_URL: 'postgres://h/db', SECRET_FILE: path.join(dir, 'secret') });
    expect(config).toEqual({ PORT: 3000, DATABASE_URL: 'postgres://h/db', SECRET: 's3cret-value' });
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(shape, { PORT: 'eighty', SECRET_FILE: '/nonexistent/secret' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: invalid/);
    expect(message).toMatch(/DATABASE_URL: missing/);
    expect(message).toMatch(/SECRET_FILE: cannot read \/nonexistent\/secret/);
  });

  it('refuses both X and X_FILE', () => {
    expect(() => loadConfig(shape, { DATABASE_URL: 'postgres://h/db', SECRET: 'abcd', SECRET_FILE: '/x' })).toThrow(/either SECRET or SECRET_FILE/);
  });
});
