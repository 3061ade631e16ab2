/**
 * `npm run demo`: a populated Marquee next to a running `npm start` — demo users, displays in
 * five time zones, creatives, confirmed bookings — and simulated displays playing them until
 * Ctrl-C. Run it again at any time: it finds what it made and only reconnects the displays.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from './run.ts';
import { DemoSetupError } from './seed.ts';
import { MarqueeApiError } from '@marquee/api-client';

const env = process.env;
const defaultHost = env.MARQUEE_HOST || '127.0.0.1';

const USAGE = `Marquee demo: populates a running platform and connects simulated displays.

  npm run demo [-- options]

  --url URL            the platform (default http://${defaultHost}:\${MARQUEE_HTTP_PORT:-8080}, as npm start prints)
  --device HOST:PORT   its display port (default ${defaultHost}:\${MARQUEE_DEVICE_PORT:-7000})
  --data-dir DIR       npm start's data folder: the admin password is read there and the demo's
                       credentials are kept there (default \${MARQUEE_DATA_DIR:-.data})
  -h, --help           this text

Admin user: ADMIN_USERNAME (default admin), as for npm start. \`npm start -- --demo\` starts the
platform and the demo together.
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

let values: { url?: string; device?: string; 'data-dir'?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: { url: { type: 'string' }, device: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message.split('\n')[0]}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

let url: URL;
try {
  url = new URL(values.url ?? `http://${defaultHost}:${env.MARQUEE_HTTP_PORT || 8080}`);
} catch {
  fail(`--url ${values.url} is not a URL (e.g. http://127.0.0.1:8080)`);
}
const device = values.device ?? `${url.hostname}:${env.MARQUEE_DEVICE_PORT || 7000}`;
const deviceMatch = /^(.+):(\d{1,5})$/.exec(device);
if (!deviceMatch || Number(deviceMatch[2]) > 65_535) fail(`--device ${device} is not HOST:PORT`);

const log = (line: string) => console.log(line);
let screens: Awaited<ReturnType<typeof runDemo>>;
try {
  screens = await runDemo({
    url: url.origin + url.pathname.replace(/\/+$/, ''),
    device: { host: deviceMatch[1]!, port: Number(deviceMatch[2]) },
    dataDir: path.resolve(values['data-dir'] ?? (env.MARQUEE_DATA_DIR || '.data')),
    adminUsername: env.ADMIN_USERNAME || 'admin',
    log,
  });
} catch (err) {
  if (err instanceof DemoSetupError) fail(err.message, 1);
  if (err instanceof MarqueeApiError) fail(`the API answered ${err.status}: ${err.message}`, 1);
  // fetch's own failure: the cause says why (ECONNREFUSED: nothing listens there).
  if (err instanceof TypeError && err.message === 'fetch failed') {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    if (cause?.code === 'ECONNREFUSED') fail(`nothing answers at ${url.origin}: start the platform first (npm start), or give --url`, 1);
    fail(`cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? 'fetch failed'}`, 1);
  }
  throw err;
}

const progress = setInterval(() => {
  const t = screens.tally();
  log(`  ${new Date().toISOString().slice(11, 19)} online ${t.online}/${t.total} · plays recorded ${t.playsRecorded}`);
}, 15_000);

const stop = () => {
  clearInterval(progress);
  screens.stop();
  const t = screens.tally();
  log(`\nDemo displays disconnected (${t.playsRecorded} plays recorded this run). The platform and the demo's data stay; run \`npm run demo\` again to reconnect.`);
  // Lets the displays' goodbyes go out.
  setTimeout(() => process.exit(0), 300).unref();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
