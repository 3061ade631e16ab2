import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ConfigError } from './config.ts';
import { INTERNAL_ENDPOINTS, OPEN_ENDPOINTS, callersOf, type InternalListener, type ServiceCaller } from './contracts/service-access.ts';
import { AuthenticationError, ForbiddenError } from './errors.ts';
import { requestHeader } from './node-http.ts';

/**
 * Service credentials: one random secret per calling service (a Docker secret, SERVICE_SECRET_<CALLER>_FILE),
 * mounted into the caller and into every service it calls. The caller sends
 * `X-Service-Credential: <caller>:<secret>`; the callee compares it in constant time and then checks
 * the caller against the endpoint's row of INTERNAL_ENDPOINTS.
 */
export const SERVICE_CREDENTIAL_HEADER = 'x-service-credential';

export interface ServiceCredential {
  caller: ServiceCaller;
  secret: string;
}

/** Secrets of the callers a service knows (its own to send, its callers' to check); absent = unknown. */
export type ServiceSecrets = Partial<Record<ServiceCaller, string>>;

/** SERVICE_SECRET_DEVICE_TCP for device-tcp, and so on. */
export function serviceSecretVariable(caller: ServiceCaller): string {
  return `SERVICE_SECRET_${caller.toUpperCase().replace(/-/g, '_')}`;
}

const secretSchema = z.string().min(32, 'must be at least 32 characters (generate it: openssl rand -base64 32)').max(1024).optional();

/** Config fields (for loadConfig) holding the secrets of these callers; give them as `*_FILE`. */
export function serviceSecretsShape(callers: readonly ServiceCaller[]): Record<string, typeof secretSchema> {
  return Object.fromEntries(callers.map((c) => [serviceSecretVariable(c), secretSchema]));
}

/** The secrets of these callers out of a loaded config. */
export function serviceSecretsOf(config: Record<string, unknown>, callers: readonly ServiceCaller[]): ServiceSecrets {
  const secrets: ServiceSecrets = {};
  for (const c of callers) {
    const value = config[serviceSecretVariable(c)];
    if (typeof value === 'string') secrets[c] = value;
  }
  return secrets;
}

/** A service's own credential, required once it calls another service. */
export function ownCredential(config: Record<string, unknown>, caller: ServiceCaller): ServiceCredential {
  const secret = config[serviceSecretVariable(caller)];
  if (typeof secret !== 'string') {
    throw new ConfigError(`Invalid configuration:\n  ${serviceSecretVariable(caller)}: missing — ${caller} needs its service credential to call other services (use ${serviceSecretVariable(caller)}_FILE)`);
  }
  return { caller, secret };
}

export function credentialHeaderValue(credential: ServiceCredential): string {
  return `${credential.caller}:${credential.secret}`;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

interface Rule {
  method: string;
  pattern: RegExp;
  callers: readonly ServiceCaller[];
}

function compile(listener: InternalListener): Rule[] {
  return Object.entries(INTERNAL_ENDPOINTS[listener]).map(([key, callers]) => {
    const [method, path] = key.split(' ') as [string, string];
    const source = path
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    return { method, pattern: new RegExp(`^${source}$`), callers };
  });
}

/** Requests that reach a guarded listener: the open probe, or a known caller allowed on the endpoint. */
export function serviceAuth(listener: InternalListener, secrets: ServiceSecrets): MiddlewareHandler {
  const rules = compile(listener);
  // Only callers the listener's table names are known to it, whatever else the service holds (its own secret).
  const callers = new Set<string>(callersOf(listener));
  const known = new Map(Object.entries(secrets).filter(([caller]) => callers.has(caller)).map(([caller, secret]) => [caller, digest(secret!)]));
  const open = new Set<string>(OPEN_ENDPOINTS);
  const challenge = 'Service realm="marquee-internal"';
  return async (c, next) => {
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const path = c.req.path;
    if (open.has(`${method} ${path}`)) return next();
    const presented = requestHeader(c, SERVICE_CREDENTIAL_HEADER);
    if (!presented) throw new AuthenticationError(`This internal endpoint needs a service credential (${SERVICE_CREDENTIAL_HEADER}: <caller>:<secret>).`, {}, undefined, challenge);
    const colon = presented.indexOf(':');
    const caller = colon > 0 ? presented.slice(0, colon) : '';
    const expected = known.get(caller);
    // Hash both sides: equal lengths for timingSafeEqual, and no early exit on the secret's content.
    if (!expected || !timingSafeEqual(digest(presented.slice(colon + 1)), expected)) {
      throw new AuthenticationError('The service credential is not valid.', {}, undefined, challenge);
    }
    const rule = rules.find((r) => r.method === method && r.pattern.test(path));
    if (!rule?.callers.includes(caller as ServiceCaller)) {
      throw new ForbiddenError(`${caller} may not call ${method} ${path}.`);
    }
    return next();
  };
}
