/**
 * api-v2's public app in this process (createApiV2App, tested with app.request): a scratch
 * database with the migrations applied, the in-memory bus, and a token verifier that knows the
 * callers `user()` makes up (the account service plays no part in these routes).
 */
import { randomUUID } from 'node:crypto';
import {
  AuthenticationError,
  createDatabase,
  createInternalClient,
  createLogger,
  createMemoryBus,
  createMetrics,
  migrate,
  type AccessClaims,
  type Role,
  type Sql,
} from '@marquee/service-kit';
import { createApiV2App } from '../src/app.ts';
import { API_V2_MIGRATIONS } from '../src/server.ts';
import { createScratchDatabase } from '../../../test/support/infra.ts';

export interface Caller extends AccessClaims {
  auth: Record<string, string>;
}

export interface InProcessApiV2 {
  app: ReturnType<typeof createApiV2App>;
  sql: Sql;
  /** A signed-in caller of this role, with a fresh user id. */
  user(role: Role): Caller;
  /** A JSON request as `who`; the body parsed (null when empty). */
  call(method: string, path: string, who?: Caller, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string | null; body: any }>;
  close(): Promise<void>;
}

export async function startInProcessApiV2(name: string): Promise<InProcessApiV2> {
  const scratch = await createScratchDatabase(name);
  const sql = createDatabase({ url: scratch.url, applicationName: `api-v2-${name}`, max: 4 });
  const logger = createLogger('api-v2', 'silent');
  await migrate(sql, 'api-v2', API_V2_MIGRATIONS, logger);
  // A client for a closed port: a route that called the account service would fail loudly.
  const account = createInternalClient({ name: 'account service', baseUrl: 'http://127.0.0.1:9', timeoutMs: 100 });
  const claimsByToken = new Map<string, AccessClaims>();
  const app = createApiV2App({
    sql,
    bus: createMemoryBus({ logger }),
    account,
    verifier: {
      async verify(token) {
        const claims = claimsByToken.get(token);
        if (!claims) throw new AuthenticationError('Unknown test token.');
        return claims;
      },
    },
    logger,
    metrics: createMetrics('api-v2'),
    publicBaseUrl: 'http://localhost/v2',
    holdTtlSeconds: 600,
    maxUploadBytes: 1024 * 1024,
  });
  return {
    app,
    sql,
    user(role) {
      const token = randomUUID();
      const claims = { sub: randomUUID(), username: `${role}-${token.slice(0, 8)}`, role };
      claimsByToken.set(token, claims);
      return { ...claims, auth: { authorization: `Bearer ${token}` } };
    },
    async call(method, path, who, body, headers = {}) {
      const res = await app.request(path, {
        method,
        headers: { ...who?.auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : null };
    },
    async close() {
      await account.close();
      await sql.end();
      await scratch.drop();
    },
  };
}
