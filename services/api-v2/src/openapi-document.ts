import { createLogger, createMetrics } from '@marquee/service-kit';
import { createApiV2App, type ApiV2Deps } from './app.ts';

const inert = (name: string) =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error(`${name} is not available while building the OpenAPI document`);
      },
    },
  );

/**
 * The public OpenAPI document (what GET /v2/openapi.json serves), built from the app definition
 * without a database, bus or account service: describing the routes touches none of them. For
 * tools that need the document at build time (the typed client's generator, the docs lint).
 */
export async function publicOpenApiDocument(): Promise<Record<string, unknown>> {
  const app = createApiV2App({
    sql: inert('sql'),
    bus: inert('bus'),
    account: inert('account'),
    verifier: inert('verifier'),
    logger: createLogger('openapi', 'silent'),
    metrics: createMetrics('openapi'),
    publicBaseUrl: 'http://127.0.0.1:8080/v2',
    holdTtlSeconds: 900,
    maxUploadBytes: 512 * 1024 * 1024,
  } as unknown as ApiV2Deps);
  const res = await app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`api-v2 answered ${res.status} for /openapi.json`);
  return (await res.json()) as Record<string, unknown>;
}
