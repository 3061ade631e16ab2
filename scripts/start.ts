/**
 * `npm start`: the whole Marquee platform on one machine, no Docker, no external services.
 * An embedded PostgreSQL (data under .data/), the in-process bus, all five services in this
 * process (the same start functions production's main.ts calls), one HTTP entry that routes /v1
 * and /v2 exactly like the production edge and everything else to the web console, and the
 * display ports: plain TCP, and TLS with a self-signed certificate made once into the data folder
 * (its SHA-256 fingerprint is printed, for displays to pin). The console's app is rebuilt first if its sources changed since the last build.
 * DATABASE_URL / REDIS_URL, when set, replace the embedded database / in-process bus (BUS_PREFIX
 * names its channels on Redis). `npm start -- --demo` also runs the demo (tools/demo) against it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, busPrefixSchema, createLogger, createMemoryBus, createRedisBus, env, loadConfig, runSteps, type ShutdownStep } from '@marquee/service-kit';
import { loadAccountConfig, startAccount } from '@marquee/account';
import { loadApiV2Config, startApiV2 } from '@marquee/api-v2';
import { loadApiV1Config, startApiV1 } from '@marquee/api-v1';
import { loadDeviceTcpConfig, startDeviceTcp } from '@marquee/device-tcp';
import { loadConsoleConfig, startConsole } from '@marquee/console';
import { buildConsole } from '../services/console/scripts/build-web.mjs';
import { startEdge } from './local/edge.ts';
import { startEmbeddedPostgres } from './local/embedded-postgres.ts';
import { ensureSelfSigned, hasOpenssl, type SelfSigned } from './local/self-signed.ts';
import { ensureServiceSecrets } from './local/service-secrets.ts';
import { runDemo } from '../tools/demo/run.ts';

const launcherShape = {
  MARQUEE_HTTP_PORT: env.port(8080),
  MARQUEE_DEVICE_PORT: env.port(7000),
  MARQUEE_DEVICE_TLS_PORT: env.port(7443),
  MARQUEE_HOST: z.string().default('127.0.0.1'),
  MARQUEE_DATA_DIR: z.string().default('.data'),
  MARQUEE_PG_PORT: env.port(54329),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
  BUS_PREFIX: busPrefixSchema,
  LOG_LEVEL: env.logLevel().default('warn'),
  ADMIN_USERNAME: z.string().default('admin'),
};

async function main() {
  const started = performance.now();
  let demo: boolean;
  try {
    demo = !!parseArgs({ args: process.argv.slice(2), options: { demo: { type: 'boolean' } }, strict: true, allowPositionals: false }).values.demo;
  } catch (err) {
    console.error(`${(err as Error).message.split('\n')[0]}\nUsage: npm start [-- --demo]   (--demo: also populate the platform with demo data and connect simulated displays)`);
    process.exit(2);
  }
  const cfg = loadConfig(launcherShape);
  const logger = createLogger('launcher', 'info');
  const dataDir = path.resolve(cfg.MARQUEE_DATA_DIR);
  // Not 0700: the embedded PostgreSQL runs as its own user and must reach its folder below; secrets get 0600 files.
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const steps: ShutdownStep[] = [];
  const stopAll = () => runSteps(logger, [...steps].reverse());
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Marquee…`);
    const hard = setTimeout(() => process.exit(1), 20_000);
    hard.unref();
    stopAll().then(() => {
      console.log('Marquee stopped.');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    // A DATABASE_URL given is used by both services (each still keeps to its own schema); the
    // embedded cluster runs each as its own role, like the stacks.
    let databaseUrls = { account: cfg.DATABASE_URL, 'api-v2': cfg.DATABASE_URL };
    if (!cfg.DATABASE_URL) {
      await letPostgresUserReach(dataDir, logger);
      const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: cfg.MARQUEE_PG_PORT, logger: quiet(logger) });
      steps.push({ name: 'embedded postgres', run: () => pg.stop() });
      databaseUrls = pg.serviceUrls;
    }
    const bus = cfg.REDIS_URL ? createRedisBus(cfg.REDIS_URL, { prefix: cfg.BUS_PREFIX, logger }) : createMemoryBus({ logger });
    steps.push({ name: 'bus', run: () => bus.close() });

    const jwtKey = await ensureSecret(path.join(dataDir, 'keys', 'jwt-es256.pem'), () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    );
    const adminPasswordFile = path.join(dataDir, 'admin-password');
    const adminPassword = await ensureSecret(adminPasswordFile, () => randomBytes(18).toString('base64url'));

    // Every service gets every caller's secret file; each reads only the ones its config names.
    const serviceSecrets = ensureServiceSecrets(path.join(dataDir, 'service-secrets')).env;
    const common = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: cfg.LOG_LEVEL, SHUTDOWN_GRACE_MS: '5000', ...serviceSecrets };
    const withRedis = cfg.REDIS_URL ? { REDIS_URL: cfg.REDIS_URL } : {};
    const account = await startAccount(
      loadAccountConfig({
        ...common,
        ...withRedis,
        DATABASE_URL: databaseUrls.account,
        JWT_PRIVATE_KEY: jwtKey,
        ADMIN_USERNAME: cfg.ADMIN_USERNAME,
        ADMIN_PASSWORD: adminPassword,
      }),
    );
    steps.push({ name: 'account', run: () => account.close() });

    const publicUrl = `http://${cfg.MARQUEE_HOST}:${cfg.MARQUEE_HTTP_PORT}`;
    const apiV2 = await startApiV2(
      loadApiV2Config({ ...common, INTERNAL_PORT: '0', DATABASE_URL: databaseUrls['api-v2'], ACCOUNT_URL: account.url, PUBLIC_BASE_URL: `${publicUrl}/v2` }),
      { bus },
    );
    steps.push({ name: 'api-v2', run: () => apiV2.close() });

    const apiV1 = await startApiV1(
      loadApiV1Config({ ...common, ACCOUNT_URL: account.url, API_V2_URL: apiV2.url, API_V2_INTERNAL_URL: apiV2.internalUrl }),
    );
    steps.push({ name: 'api-v1', run: () => apiV1.close() });

    const deviceTls = deviceCertificate(dataDir, cfg.MARQUEE_HOST);
    const device = await startDeviceTcp(
      loadDeviceTcpConfig({
        ...common,
        DEVICE_HOST: cfg.MARQUEE_HOST,
        DEVICE_PORT: String(cfg.MARQUEE_DEVICE_PORT),
        ...(deviceTls
          ? { DEVICE_TLS_PORT: String(cfg.MARQUEE_DEVICE_TLS_PORT), DEVICE_TLS_KEY_FILE: deviceTls.keyFile, DEVICE_TLS_CERT_FILE: deviceTls.certFile }
          : {}),
        API_V2_URL: apiV2.internalUrl,
        INSTANCE_ID: 'local',
      }),
      { bus },
    );
    steps.push({ name: 'device-tcp', run: () => device.close() });

    await buildConsole({ log: (line) => console.log(line) });
    const webConsole = await startConsole(loadConsoleConfig(common));
    steps.push({ name: 'console', run: () => webConsole.close() });

    const edge = await startEdge({
      host: cfg.MARQUEE_HOST,
      port: cfg.MARQUEE_HTTP_PORT,
      routes: [
        { prefix: '/v1', target: apiV1.url },
        { prefix: '/v2', target: apiV2.url },
      ],
      fallback: webConsole.url,
      logger: quiet(logger),
    });
    steps.push({ name: 'edge', run: () => edge.close() });

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      [
        '',
        `Marquee is running (started in ${seconds} s). Ctrl-C stops it.`,
        '',
        `  Console      ${edge.url}/           sign up or sign in as admin`,
        `  API v2       ${edge.url}/v2        docs: ${edge.url}/v2/docs   health: ${edge.url}/v2/healthz`,
        `  API v1       ${edge.url}/v1        docs: ${edge.url}/v1/docs   (legacy)`,
        `  Displays     tcp://${cfg.MARQUEE_HOST}:${device.devicePort}   protocol: docs/display-protocol.md`,
        ...(deviceTls
          ? [
              `  Displays/TLS tls://${cfg.MARQUEE_HOST}:${device.deviceTlsPort}   self-signed certificate ${shown(deviceTls.certFile)}`,
              `               SHA-256 fingerprint ${deviceTls.fingerprint}`,
              `               npm run display -- --port ${device.deviceTlsPort} --pin ${deviceTls.fingerprint} --id DISPLAY_ID --secret-file PATH`,
            ]
          : ['  Displays/TLS off: no openssl on this machine to make its certificate (install openssl)']),
        '',
        `  Database     ${cfg.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL, data in ${path.join(dataDir, 'postgres')}`}`,
        `  Bus          ${cfg.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process'}`,
        `  Admin        ${cfg.ADMIN_USERNAME} / password in ${adminPasswordFile}`,
        `  Internal     account ${account.url}  api-v2 ${apiV2.url} (internal ${apiV2.internalUrl})  api-v1 ${apiV1.url}  device ops ${device.url}  console ${webConsole.url}`,
        '',
      ].join('\n'),
    );

    if (demo) {
      try {
        const screens = await runDemo({
          url: edge.url,
          device: { host: cfg.MARQUEE_HOST, port: device.devicePort },
          dataDir,
          adminUsername: cfg.ADMIN_USERNAME,
          log: (line) => console.log(line),
        });
        steps.push({ name: 'demo displays', run: () => screens.stop() });
      } catch (err) {
        // The platform is up and useful without the demo: say why and keep running.
        console.error(`The demo did not start: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    await stopAll();
    process.exit(1);
  }
}

/** A path relative to the current folder when it is inside it, else absolute. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * The TLS listener's certificate: self-signed, made once into the data folder (so the fingerprint
 * displays pin survives restarts) for localhost and the listen address. null without openssl.
 */
function deviceCertificate(dataDir: string, host: string): SelfSigned | null {
  if (!existsSync(path.join(dataDir, 'device-tls', 'device.crt')) && !hasOpenssl()) return null;
  const names = ['localhost', '127.0.0.1', '::1', ...(host === '0.0.0.0' || host === '::' || host === '127.0.0.1' || host === 'localhost' ? [] : [host])];
  return ensureSelfSigned(path.join(dataDir, 'device-tls'), 'device', { names, commonName: 'marquee-local-devices' });
}

/**
 * As root, embedded PostgreSQL runs as the unprivileged `postgres` user (PostgreSQL refuses root),
 * which must be able to traverse every folder above the data folder. A checkout under a 0700 home
 * (e.g. /root) would block it, so grant search-only permission (o+x, no listing) where missing.
 */
async function letPostgresUserReach(dir: string, logger: ReturnType<typeof createLogger>) {
  if (process.getuid?.() !== 0) return;
  const { stat } = await import('node:fs/promises');
  for (let current = dir; ; current = path.dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) {
      await chmod(current, (mode & 0o7777) | 0o001);
      logger.warn(`granted search permission (o+x) on ${current} so the embedded PostgreSQL user can reach its data`);
    }
    if (path.dirname(current) === current) break;
  }
}

/** Reads a secret kept under the data folder, creating it (mode 600) on first run. */
async function ensureSecret(file: string, make: () => string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  await writeFile(file, value + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return value;
}

/** The launcher's building blocks take a small string logger. */
function quiet(logger: ReturnType<typeof createLogger>) {
  return {
    debug: (m: string) => logger.debug(m),
    info: (m: string) => logger.info(m),
    warn: (m: string) => logger.warn(m),
    error: (m: string) => logger.error(m),
  };
}

await main();
