/**
 * Runs Marquee's services as separate processes (each service's own main.ts under tsx, configured
 * through its environment exactly as in production) against a scratch database on the machine's
 * PostgreSQL and the machine's Redis, so each process's CPU and memory can be read from /proc and a
 * process can be killed -9 and restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { SERVICE_CREDENTIAL_HEADER, SERVICE_DATABASES, type ServiceCaller } from '@marquee/service-kit';
import { ensureServiceSecrets } from '../../scripts/local/service-secrets.ts';
import { isAlive } from './proc.ts';

let benchSecrets: Partial<Record<ServiceCaller, string>> = {};
/** The header a caller sends (internal listeners answer /readyz, /metrics and /internal only to a credential). */
export function credentialHeader(caller: ServiceCaller): Record<string, string> {
  const secret = benchSecrets[caller];
  return secret ? { [SERVICE_CREDENTIAL_HEADER]: `${caller}:${secret}` } : {};
}

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TSX_NODE_ARGS = ['--import', 'tsx', '--conditions=marquee-source'];

export type ServiceName = 'account' | 'api-v2' | 'api-v1' | 'device-tcp';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForHttp(url: string, timeoutMs = 30_000, proc?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc && !proc.alive) throw new Error(`${proc.name} exited before ${url} answered (see ${proc.logFile})`);
    try {
      const res = await fetch(url, { headers: credentialHeader('ops'), signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/** A child process with its log file; can be killed -9 and started again with the same config. */
export class ManagedProcess {
  child: ChildProcess | null = null;
  exits: { code: number | null; signal: string | null; at: number }[] = [];

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    readonly logFile: string,
    readonly readyUrl: string,
  ) {}

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null && isAlive(this.pid);
  }

  async start(extraNodeArgs: string[] = []): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n--- start ${new Date().toISOString()} ---\n`);
    const child = spawn(process.execPath, [...extraNodeArgs, ...TSX_NODE_ARGS, ...this.args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', (code, signal) => {
      this.exits.push({ code, signal, at: Date.now() });
      log.end(`--- exit code=${code} signal=${signal} ---\n`);
    });
    this.child = child;
    await waitForHttp(this.readyUrl, 60_000, this);
  }

  kill9(): void {
    if (this.child && this.alive) this.child.kill('SIGKILL');
  }

  /** SIGTERM (graceful: lets --cpu-prof write its profile), SIGKILL after the timeout. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Only what a service needs from the runner's environment (no leaking of unrelated variables). */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TZ', 'LANG'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k]) env[k] = process.env[k]!;
  return env;
}

export interface PlatformOptions {
  /** Which services to run (account + api-v2 always). */
  apiV1?: boolean;
  deviceTcp?: boolean;
  /** Extra environment per service (bench-specific limits). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Extra node flags per service, e.g. --cpu-prof. */
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
  logDir: string;
}

export interface Platform {
  databaseUrl: string;
  accountUrl: string;
  apiV2Url: string;
  apiV2InternalUrl: string;
  apiV1Url?: string;
  deviceOpsUrl?: string;
  devicePort?: number;
  procs: Partial<Record<ServiceName, ManagedProcess>>;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export async function startPlatform(name: string, opts: PlatformOptions): Promise<Platform> {
  mkdirSync(opts.logDir, { recursive: true });
  const dbName = `bench_${name}_${randomBytes(4).toString('hex')}`.replace(/[^a-z0-9_]/g, '_');
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end();
  const dbUrl = new URL(ADMIN_DATABASE_URL);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();

  const [accountPort, v2Port, v2InternalPort, v1Port, devicePort, deviceOpsPort] = await Promise.all(Array.from({ length: 6 }, freePort));
  const secrets = ensureServiceSecrets(path.join(opts.logDir, 'service-secrets'));
  benchSecrets = secrets.secrets;
  const common = { HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '5000', ...secrets.env };
  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const accountUrl = `http://127.0.0.1:${accountPort}`;
  const apiV2Url = `http://127.0.0.1:${v2Port}`;
  const apiV2InternalUrl = `http://127.0.0.1:${v2InternalPort}`;
  const log = (n: string) => path.join(opts.logDir, `${name}-${n}.log`);
  const procs: Platform['procs'] = {};

  procs.account = new ManagedProcess(
    'account',
    ['services/account/src/main.ts'],
    { ...common, PORT: String(accountPort), DATABASE_URL: databaseUrl, REDIS_URL, JWT_PRIVATE_KEY: jwtKey, ...opts.env?.account },
    log('account'),
    `${accountUrl}/readyz`,
  );
  procs['api-v2'] = new ManagedProcess(
    'api-v2',
    ['services/api-v2/src/main.ts'],
    {
      ...common,
      PORT: String(v2Port),
      INTERNAL_PORT: String(v2InternalPort),
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      ACCOUNT_URL: accountUrl,
      PUBLIC_BASE_URL: `${apiV2Url}`,
      ...opts.env?.['api-v2'],
    },
    log('api-v2'),
    `${apiV2Url}/readyz`,
  );
  if (opts.apiV1) {
    procs['api-v1'] = new ManagedProcess(
      'api-v1',
      ['services/api-v1/src/main.ts'],
      { ...common, PORT: String(v1Port), ACCOUNT_URL: accountUrl, API_V2_URL: apiV2Url, API_V2_INTERNAL_URL: apiV2InternalUrl, ...opts.env?.['api-v1'] },
      log('api-v1'),
      `http://127.0.0.1:${v1Port}/readyz`,
    );
  }
  if (opts.deviceTcp) {
    procs['device-tcp'] = new ManagedProcess(
      'device-tcp',
      ['services/device-tcp/src/main.ts'],
      {
        ...common,
        PORT: String(deviceOpsPort),
        DEVICE_HOST: '127.0.0.1',
        DEVICE_PORT: String(devicePort),
        API_V2_URL: apiV2InternalUrl,
        REDIS_URL,
        INSTANCE_ID: `bench-${name}`,
        ...opts.env?.['device-tcp'],
      },
      log('device-tcp'),
      `http://127.0.0.1:${deviceOpsPort}/readyz`,
    );
  }

  // The runner seeds and checks api-v2's tables (displays, bookings, plays), in api-v2's schema.
  const sql = postgres(databaseUrl, { max: 4, connection: { search_path: SERVICE_DATABASES['api-v2'].schema }, onnotice: () => {} });
  const platform: Platform = {
    databaseUrl,
    accountUrl,
    apiV2Url,
    apiV2InternalUrl,
    ...(opts.apiV1 ? { apiV1Url: `http://127.0.0.1:${v1Port}` } : {}),
    ...(opts.deviceTcp ? { deviceOpsUrl: `http://127.0.0.1:${deviceOpsPort}`, devicePort } : {}),
    procs,
    sql,
    async close() {
      for (const n of ['device-tcp', 'api-v1', 'api-v2', 'account'] as const) await procs[n]?.stop();
      await sql.end({ timeout: 5 });
      const a = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${dbName}" with (force)`);
      await a.end();
    },
  };
  try {
    await procs.account.start(opts.nodeArgs?.account);
    await procs['api-v2'].start(opts.nodeArgs?.['api-v2']);
    await procs['api-v1']?.start(opts.nodeArgs?.['api-v1']);
    await procs['device-tcp']?.start(opts.nodeArgs?.['device-tcp']);
  } catch (err) {
    await platform.close().catch(() => {});
    throw err;
  }
  return platform;
}
