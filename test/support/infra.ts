/**
 * Real infrastructure for integration tests: a scratch database per suite on the machine's
 * PostgreSQL, and the machine's Redis. Override with TEST_DATABASE_URL / TEST_REDIS_URL.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICE_CREDENTIAL_HEADER, SERVICE_DATABASES, ensureServiceRoles, ensureServiceSchemas, type DatabaseService, type ServiceCaller } from '@marquee/service-kit';
import { ensureServiceSecrets, type ServiceSecretFiles } from '../../scripts/local/service-secrets.ts';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ScratchDatabase {
  /** As the admin (superuser): fixtures, assertions, services run with full rights. */
  url: string;
  name: string;
  /** As `service`'s own role, the way the stacks and `npm start` run it (trust auth: no password). */
  serviceUrl(service: DatabaseService): string;
  drop(): Promise<void>;
}

/**
 * A database of the suite's own, with the services' roles (cluster-global, made once and shared
 * by every suite; ensureServiceRoles serialises them) and their schemas in it. Connections without
 * a search_path of their own (fixtures, assertions) see both services' schemas.
 */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
    await ensureServiceRoles(admin);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const scratch = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await ensureServiceSchemas(scratch);
    const schemas = Object.values(SERVICE_DATABASES).map((d) => d.schema);
    await scratch.unsafe(`alter database "${name}" set search_path = ${schemas.join(', ')}, public`);
  } finally {
    await scratch.end();
  }
  return {
    url: url.toString(),
    name,
    serviceUrl(service) {
      const own = new URL(url);
      own.username = SERVICE_DATABASES[service].role;
      own.password = '';
      return own.toString();
    },
    async drop() {
      const a = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A bus prefix of its own for one suite: suites sharing Redis never see each other's messages. */
export function uniqueBusPrefix(suite: string): string {
  return `test.${suite.replace(/[^A-Za-z0-9_-]/g, '-')}.${randomBytes(4).toString('hex')}`;
}

/** A unique-per-run name, so suites sharing Redis never see each other's counters. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/**
 * A Redis key prefix of a suite's own (REDIS_KEY_PREFIX), so counters such as the login throttle's
 * per-address count never leak between suites sharing one Redis, and can be deleted afterwards.
 */
export function redisKeyPrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (what a suite's services wrote to Redis). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

let suiteSecrets: (ServiceSecretFiles & { dir: string }) | undefined;

/**
 * This suite's service credentials (each test file runs in a worker of its own, so they are per
 * suite), made like `npm start` makes them: 0600 files in a temporary folder, removed at exit.
 * `env` (SERVICE_SECRET_<CALLER>_FILE) goes into every service's configuration.
 */
export function suiteServiceSecrets(): ServiceSecretFiles & { dir: string } {
  if (!suiteSecrets) {
    const dir = mkdtempSync(path.join(tmpdir(), 'marquee-secrets-'));
    suiteSecrets = { dir, ...ensureServiceSecrets(dir) };
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return suiteSecrets;
}

/** The header a service sends as `caller` (with this suite's secret). */
export function serviceCredentialHeader(caller: ServiceCaller): Record<string, string> {
  return { [SERVICE_CREDENTIAL_HEADER]: `${caller}:${suiteServiceSecrets().secrets[caller]}` };
}
