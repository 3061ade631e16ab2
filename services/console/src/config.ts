import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { commonConfigShape, loadConfig } from '@marquee/service-kit';

/**
 * Where the built single-page app lives: services/console/public next to src/ when run from
 * source, /app/public next to dist/ in the image (scripts/image/build-service.mjs puts it there).
 */
export const DEFAULT_STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public');

export const consoleConfigShape = {
  ...commonConfigShape,
  CONSOLE_STATIC_DIR: z.string().min(1).default(DEFAULT_STATIC_DIR),
};

export type ConsoleConfig = ReturnType<typeof loadConsoleConfig>;

export function loadConsoleConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(consoleConfigShape, source);
}
