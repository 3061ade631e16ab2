/**
 * The services' credentials for one machine (npm start) or one test suite: a random secret per
 * caller, kept in `dir` as 0600 files and handed to the services as SERVICE_SECRET_<CALLER>_FILE,
 * the way Docker secrets are in production. Made once; later runs read the same files.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_CALLERS, serviceSecretVariable, type ServiceCaller, type ServiceSecrets } from '@marquee/service-kit';

export interface ServiceSecretFiles {
  /** SERVICE_SECRET_<CALLER>_FILE for every caller: what each service's environment gets. */
  env: Record<string, string>;
  secrets: Required<ServiceSecrets>;
}

export function ensureServiceSecrets(dir: string): ServiceSecretFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {};
  const secrets = {} as Required<ServiceSecrets>;
  for (const caller of SERVICE_CALLERS) {
    const file = path.join(dir, caller);
    try {
      // 'wx': a second launcher starting at the same time keeps the first one's secret.
      writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    env[`${serviceSecretVariable(caller)}_FILE`] = file;
    secrets[caller as ServiceCaller] = readFileSync(file, 'utf8').trim();
  }
  return { env, secrets };
}
