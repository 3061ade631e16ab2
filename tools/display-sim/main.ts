/**
 * Simulated displays for Marquee's device-tcp (docs/display-protocol.md).
 *
 *   npm run display -- --id d-1 --secret s3cret [--host 127.0.0.1] [--port 7000] [--speed 10]
 *       one display: prints what it would show, reports plays, executes commands
 *   npm run display -- --count 30000 [--id-pattern 'sim-{n}'] [--secret-pattern 'secret-{n}']
 *       many displays, source addresses spread over 127.0.0.x (--per-address) so more than the
 *       ~28k ephemeral ports of one address are possible; a progress line while connecting
 *
 * Other options: --credentials file.csv (lines "id,secret"), --first N, --rate N (connects/s),
 * --per-address N, --duration S, --plays / --no-plays, --batch-every MS, --proxy v1|v2,
 * --no-reconnect.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SimDisplay, type SimDisplayOptions } from './display.ts';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7000' },
    id: { type: 'string' },
    secret: { type: 'string' },
    count: { type: 'string' },
    'id-pattern': { type: 'string', default: 'sim-{n}' },
    'secret-pattern': { type: 'string', default: 'secret-{n}' },
    credentials: { type: 'string' },
    first: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    'per-address': { type: 'string', default: '20000' },
    duration: { type: 'string' },
    plays: { type: 'boolean' },
    'no-plays': { type: 'boolean' },
    speed: { type: 'string', default: '1' },
    'batch-every': { type: 'string', default: '10000' },
    proxy: { type: 'string' },
    'no-reconnect': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

function usage(message?: string): never {
  if (message) console.error(`display-sim: ${message}\n`);
  console.error(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, ''));
  process.exit(message ? 2 : 0);
}

function int(name: string, value: string | undefined, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min}`);
  return n;
}

if (args.help) usage();
const host = args.host!;
const port = int('port', args.port, 1);
const speed = Number(args.speed);
if (!(speed > 0)) usage('--speed must be a positive number');
const batchEveryMs = int('batch-every', args['batch-every'], 100);
const reconnect = !args['no-reconnect'];
const proxy = args.proxy;
if (proxy && proxy !== 'v1' && proxy !== 'v2') usage('--proxy must be v1 or v2');

/** PROXY header claiming a source in 198.18.0.0/15 (benchmark range), as a balancer would send. */
function proxyHeader(index: number): () => Buffer {
  const src = `198.18.${(index >> 8) & 0xff}.${index & 0xff}`;
  const srcPort = 10_000 + (index % 50_000);
  return () => {
    if (proxy === 'v1') return Buffer.from(`PROXY TCP4 ${src} 127.0.0.1 ${srcPort} ${port}\r\n`, 'latin1');
    const h = Buffer.alloc(28);
    Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]).copy(h, 0);
    h[12] = 0x21;
    h[13] = 0x11;
    h.writeUInt16BE(12, 14);
    src.split('.').forEach((o, i) => (h[16 + i] = Number(o)));
    [127, 0, 0, 1].forEach((o, i) => (h[20 + i] = o));
    h.writeUInt16BE(srcPort, 24);
    h.writeUInt16BE(port, 26);
    return h;
  };
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function finishAfter(displays: SimDisplay[], summary: () => void): void {
  const stop = () => {
    summary();
    for (const d of displays) d.stop();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (args.duration) setTimeout(stop, int('duration', args.duration, 1) * 1000);
}

if (args.count === undefined) {
  // ------------------------------------------------------------- one display, verbose
  if (!args.id || !args.secret) usage('give --id and --secret for one display, or --count N for many');
  const display = new SimDisplay({
    host,
    port,
    displayId: args.id,
    secret: args.secret,
    plays: !args['no-plays'],
    speed,
    batchEveryMs,
    reconnect,
    ...(proxy ? { preamble: proxyHeader(1) } : {}),
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  console.log(`${stamp()} display ${args.id} connecting to ${host}:${port}`);
  await display.start();
  finishAfter([display], () => {
    const s = display.stats;
    console.log(`${stamp()} summary: ${s.welcomes} sessions, playlist v${display.playlistVersion}, ${s.plays} plays (${s.playsAcked} recorded, ${s.playsRejected} rejected, ${display.unackedPlays} unacked), ${s.commands} commands, errors ${JSON.stringify(s.errors)}`);
  });
} else {
  // ------------------------------------------------------------- many displays, one progress line
  const count = int('count', args.count, 1);
  const first = int('first', args.first);
  const rate = int('rate', args.rate, 1);
  const perAddress = int('per-address', args['per-address'], 1);
  if (Math.ceil(count / perAddress) > 254) usage('too many displays for 127.0.0.1–254 at this --per-address');
  let credentials: [string, string][] | null = null;
  if (args.credentials) {
    credentials = readFileSync(args.credentials, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',').map((s) => s.trim()) as [string, string]);
    if (credentials.length < count) usage(`${args.credentials} has only ${credentials.length} credentials`);
  }
  const fill = (pattern: string, n: number) => pattern.replaceAll('{n}', String(n));
  const displays: SimDisplay[] = [];
  const started = Date.now();
  let launched = 0;

  const launch = setInterval(() => {
    const batch = Math.max(1, Math.round(rate / 100));
    for (let k = 0; k < batch && launched < count; k++, launched++) {
      const i = launched;
      const n = first + i;
      const [displayId, secret] = credentials ? credentials[i]! : [fill(args['id-pattern']!, n), fill(args['secret-pattern']!, n)];
      const opts: SimDisplayOptions = {
        host,
        port,
        displayId,
        secret,
        localAddress: `127.0.0.${1 + Math.floor(i / perAddress)}`,
        plays: !!args.plays,
        speed,
        batchEveryMs,
        reconnect,
        ...(proxy ? { preamble: proxyHeader(n) } : {}),
      };
      const d = new SimDisplay(opts);
      displays.push(d);
      void d.start();
    }
    if (launched >= count) clearInterval(launch);
  }, 10);

  const tally = () => {
    let online = 0;
    let playlists = 0;
    let plays = 0;
    let acked = 0;
    const errors: Record<string, number> = {};
    for (const d of displays) {
      if (d.state === 'online') online++;
      playlists += d.stats.playlists;
      plays += d.stats.plays;
      acked += d.stats.playsAcked;
      for (const [code, n] of Object.entries(d.stats.errors)) errors[code] = (errors[code] ?? 0) + n;
    }
    return { online, playlists, plays, acked, errors };
  };
  let lastOnline = 0;
  let lastAt = started;
  const line = () => {
    const t = tally();
    const now = Date.now();
    const secs = (now - started) / 1000;
    // Rate since the previous progress line, so it shows the current pace rather than a lifetime average.
    const rateNow = Math.round(((t.online - lastOnline) * 1000) / Math.max(now - lastAt, 1));
    [lastOnline, lastAt] = [t.online, now];
    const errs = Object.entries(t.errors).map(([c, n]) => `${c}=${n}`).join(' ');
    return `launched ${launched}/${count} · online ${t.online} (${rateNow >= 0 ? '+' : ''}${rateNow}/s) · playlists ${t.playlists} · plays ${t.acked}/${t.plays} · ${secs.toFixed(1)} s${errs ? ` · ${errs}` : ''}`;
  };
  const tty = process.stderr.isTTY;
  const progress = setInterval(() => process.stderr.write(tty ? `\r${line()}\x1b[K` : `${line()}\n`), tty ? 250 : 2_000);
  progress.unref();
  finishAfter(displays, () => {
    clearInterval(progress);
    process.stderr.write(tty ? '\n' : '');
    console.log(`summary: ${line()}`);
  });
}
