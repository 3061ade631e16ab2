import { z } from 'zod';
import { commonConfigShape, env, loadConfig, serviceSecretsShape } from '@marquee/service-kit';

export const apiV1ConfigShape = {
  ...commonConfigShape,
  ACCOUNT_URL: z.string().url(),
  /** How long a call to the account service (signup, login: a password hash each) may take before it fails. */
  ACCOUNT_TIMEOUT_MS: env.int(3_000, 100, 60_000),
  /** api-v2's public port: orders run through it with the caller's own token. */
  API_V2_URL: z.string().url(),
  /** api-v2's internal port (never routed by the edge): the device list with presence. */
  API_V2_INTERNAL_URL: z.string().url(),
  /** Its credential for the account service and api-v2's internal port. */
  ...serviceSecretsShape(['api-v1']),
};

export type ApiV1Config = ReturnType<typeof loadApiV1Config>;

export function loadApiV1Config(source: Record<string, string | undefined> = process.env) {
  return loadConfig(apiV1ConfigShape, source);
}
