/**
 * Simulated displays for Marquee's device-tcp: `npm run display -- --help`.
 * Built on packages/display-client, like the kiosk player.
 */
import { SimDisplay, type SimDisplayOptions } from './display.ts';
import { USAGE, UsageError, parseSimArgs, type SimArgs } from './cli.ts';

let args: SimArgs;
try {
  args = parseSimArgs(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`display-sim: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { host, port, proxy } = args;

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

function common(): Omit<SimDisplayOptions, 'displayId' | 'secret'> {
  return {
    host,
    port,
    ...(args.tls ? { tls: args.tls } : {}),
    speed: args.speed,
    batchEveryMs: args.batchEveryMs,
    reconnect: args.reconnect,
  };
}

function finishAfter(displays: SimDisplay[], summary: () => void): void {
  const stop = () => {
    summary();
    for (const d of displays) d.stop();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (args.durationS) setTimeout(stop, args.durationS * 1000);
}

if (args.single) {
  // ------------------------------------------------------------- one display, verbose
  const { id } = args.single;
  const display = new SimDisplay({
    ...common(),
    displayId: id,
    secret: args.single.secret,
    plays: args.plays ?? true,
    ...(proxy ? { preamble: proxyHeader(1) } : {}),
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  console.log(`${stamp()} display ${id} connecting to ${host}:${port}${args.tls ? ' (TLS)' : ''}`);
  await display.start();
  finishAfter([display], () => {
    const s = display.stats;
    console.log(
      `${stamp()} summary: ${s.welcomes} sessions, playlist v${display.playlistVersion}, ${s.plays} plays (${s.playsAcked} recorded, ${s.playsRejected} rejected, ${display.unackedPlays} unacked), ${s.commands} commands, errors ${JSON.stringify(s.errors)}`,
    );
  });
} else {
  // ------------------------------------------------------------- many displays, one progress line
  const { count, first, rate, perAddress, credentials } = args.fleet!;
  const displays: SimDisplay[] = [];
  const started = Date.now();
  let launched = 0;

  const launch = setInterval(() => {
    const batch = Math.max(1, Math.round(rate / 100));
    for (let k = 0; k < batch && launched < count; k++, launched++) {
      const i = launched;
      const n = first + i;
      const [displayId, secret] = credentials(n, i);
      const d = new SimDisplay({
        ...common(),
        displayId,
        secret,
        localAddress: `127.0.0.${1 + Math.floor(i / perAddress)}`,
        plays: args.plays ?? false,
        ...(proxy ? { preamble: proxyHeader(n) } : {}),
      });
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
