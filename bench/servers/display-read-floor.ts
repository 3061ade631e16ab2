/**
 * Floor for H2: the least a server can do to answer GET /displays/{id} as api-v2 does. node:http,
 * postgres.js (pool 4), api-v2's own query and view (findVisibleDisplay, viewFor), and each bearer
 * token verified once (ES256 against the account's JWKS, passed in as JWKS_JSON) and then
 * remembered. No framework, no request ids, logs, metrics or problem+json.
 */
import { createServer } from 'node:http';
import postgres from 'postgres';
import { SERVICE_DATABASES, keysFromJwks, verifyWithKey, type AccessClaims } from '@marquee/service-kit';
import { findVisibleDisplay, viewFor } from '../../services/api-v2/src/displays/sql.ts';

const keys = keysFromJwks(JSON.parse(process.env.JWKS_JSON!));
const sql = postgres(process.env.DATABASE_URL!, {
  max: 4,
  connection: { application_name: 'display-read-floor', search_path: SERVICE_DATABASES['api-v2'].schema },
  onnotice: () => {},
});
const verified = new Map<string, AccessClaims>();

function claimsOf(header: string | undefined): AccessClaims | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token) return undefined;
  let claims = verified.get(token);
  if (!claims) {
    const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
    claims = verifyWithKey(token, keys.get(kid)!);
    verified.set(token, claims);
  }
  return claims;
}

const send = (res: import('node:http').ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

const server = createServer((req, res) => {
  const id = /^\/displays\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1];
  if (req.url === '/healthz') return send(res, 200, '{"status":"ok"}');
  let user: AccessClaims | undefined;
  try {
    user = claimsOf(req.headers.authorization);
  } catch {
    user = undefined;
  }
  if (!user) return send(res, 401, '{"status":401}');
  if (!id) return send(res, 404, '{"status":404}');
  findVisibleDisplay(sql, user, id).then(
    (row) => (row ? send(res, 200, JSON.stringify(viewFor(user, row))) : send(res, 404, '{"status":404}')),
    () => send(res, 500, '{"status":500}'),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => void sql.end({ timeout: 5 }).then(() => process.exit(0))));
