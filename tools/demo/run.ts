/**
 * The demo against a running platform: seed (or find) everything, print how to look at it, and
 * connect the simulated displays. Used by `npm run demo` (tools/demo/main.ts) and by
 * `npm start -- --demo` (scripts/start.ts), which stops the screens with the platform.
 */
import { BOOKING_DAYS, DEMO_DISPLAYS } from './plan.ts';
import { connectScreens, type Screens } from './screens.ts';
import { seedDemo, type Created } from './seed.ts';
import { credentialsFile } from './state.ts';

export interface DemoOptions {
  /** The platform's HTTP entry, e.g. http://127.0.0.1:8080 (API v2 under /v2, the console at /). */
  url: string;
  device: { host: string; port: number };
  dataDir: string;
  adminUsername: string;
  log: (line: string) => void;
}

/** Printed once the screens are connecting: scripts and tests wait for it. */
export const DEMO_RUNNING = 'The demo is running';

const describeCreated = (c: Created) => {
  const count = (n: number, one: string, many: string) => (n ? [`${n} ${n === 1 ? one : many}`] : []);
  const made = [
    ...count(c.users, 'user', 'users'),
    ...count(c.displays, 'display', 'displays'),
    ...count(c.creatives, 'creative', 'creatives'),
    ...count(c.bookings, 'booking', 'bookings'),
  ];
  const changed = [...count(c.activations, 'display activated', 'displays activated'), ...count(c.credentialRotations, 'device credential rotated', 'device credentials rotated')];
  if (!made.length && !changed.length) return 'nothing new: everything was already there';
  return [made.length ? `created ${made.join(', ')}` : 'created nothing new', ...changed].join('; ');
};

export async function runDemo(opts: DemoOptions): Promise<Screens> {
  const { url, log } = opts;
  const apiUrl = `${url}/v2`;
  log(`Setting up the demo on ${url} …`);
  const seeded = await seedDemo({ apiUrl, dataDir: opts.dataDir, adminUsername: opts.adminUsername, log: (line) => log(`  ${line}`) });
  const screens = connectScreens({
    host: opts.device.host,
    port: opts.device.port,
    displays: seeded.displays,
    creativeNames: new Map(seeded.creatives.map((c) => [c.id, c.name])),
    rotateSecret: seeded.rotateSecret,
    log: (line) => log(`  ${line}`),
  });
  const firstBooking = seeded.bookings[0]!;
  const day = new Date().toISOString().slice(0, 10);
  const until = new Date(Date.now() + (BOOKING_DAYS + 1) * 86_400_000).toISOString().slice(0, 10);
  log(
    [
      '',
      `Demo ready (${describeCreated(seeded.created)}).`,
      '',
      `  ${seeded.displays.length} displays in ${new Set(DEMO_DISPLAYS.map((d) => d.timezone)).size} time zones, tagged "demo"; ${seeded.creatives.length} creatives; ${seeded.bookings.length} confirmed bookings.`,
      `  Sign in to the console at ${url}/ as`,
      `    ${seeded.advertiser.username} / ${seeded.advertiser.password}   bookings, creatives, proof-of-play reports`,
      `    ${seeded.operator.username} / ${seeded.operator.password}   the displays, live status, revenue`,
      `  (kept in ${credentialsFile(opts.dataDir)}, mode 600, with the displays' device secrets)`,
      '',
      `  Or with the API (docs: ${apiUrl}/docs):`,
      `    TOKEN=$(curl -s ${apiUrl}/auth/login -H 'content-type: application/json' \\`,
      `      -d '{"username":"${seeded.advertiser.username}","password":"${seeded.advertiser.password}"}' | sed 's/.*"accessToken":"\\([^"]*\\)".*/\\1/')`,
      `    curl -s '${apiUrl}/displays?tag=demo' -H "authorization: Bearer $TOKEN"`,
      `    curl -s '${apiUrl}/bookings/${firstBooking.id}/plays?from=${day}T00:00:00Z&to=${until}T00:00:00Z&bucket=day' -H "authorization: Bearer $TOKEN"`,
      '',
      `${DEMO_RUNNING}: ${seeded.displays.length} simulated displays connect to ${opts.device.host}:${opts.device.port} and report plays.`,
      '',
    ].join('\n'),
  );
  return screens;
}
