/**
 * A process hosting many simulated displays (tools/display-sim), driven by the benchmark runner
 * over IPC. It runs apart from the runner and from device-tcp so that the displays' CPU never
 * counts as the server's. Times are epoch milliseconds with sub-millisecond precision
 * (performance.timeOrigin + performance.now()), comparable across processes on one machine.
 */
import { SimDisplay } from '../../tools/display-sim/display.ts';
import type { SimCommand, SimStatus } from './sim.ts';

const now = () => performance.timeOrigin + performance.now();

interface Tracked {
  display: SimDisplay;
  id: string;
  /** When the display first applied each playlist version. */
  appliedAt: Map<number, number>;
  firstWelcomeAt: number;
}

const displays: Tracked[] = [];
const byId = new Map<string, Tracked>();
let launching: NodeJS.Timeout | null = null;

function status(): SimStatus {
  const s: SimStatus = { total: displays.length, online: 0, welcomes: 0, connects: 0, playlists: 0, plays: 0, playsAcked: 0, playsRejected: 0, unacked: 0, errors: {} };
  for (const t of displays) {
    const d = t.display;
    if (d.state === 'online') s.online++;
    s.welcomes += d.stats.welcomes;
    s.connects += d.stats.connects;
    s.playlists += d.stats.playlists;
    s.plays += d.stats.plays;
    s.playsAcked += d.stats.playsAcked;
    s.playsRejected += d.stats.playsRejected;
    s.unacked += d.unackedPlays;
    for (const [code, n] of Object.entries(d.stats.errors)) s.errors[code] = (s.errors[code] ?? 0) + n;
  }
  return s;
}

function handle(cmd: SimCommand): unknown {
  switch (cmd.op) {
    case 'launch': {
      const { credentials, port, rate, perAddress, addressBase, plays, speed, batchEveryMs, playlistVersion } = cmd;
      let i = 0;
      const perTick = Math.max(1, Math.round(rate / 100));
      if (launching) clearInterval(launching);
      launching = setInterval(() => {
        for (let k = 0; k < perTick && i < credentials.length; k++, i++) {
          const [id, secret] = credentials[i]!;
          const tracked: Tracked = { id, display: null as never, appliedAt: new Map(), firstWelcomeAt: 0 };
          const display = new SimDisplay({
            host: '127.0.0.1',
            port,
            displayId: id,
            secret,
            localAddress: `127.0.${addressBase + Math.floor(i / perAddress / 254)}.${1 + (Math.floor(i / perAddress) % 254)}`,
            plays,
            speed,
            batchEveryMs,
            reconnect: true,
            playlistVersion: playlistVersion ?? 0,
          });
          display.client.on('playlist', (p) => {
            if (!tracked.appliedAt.has(p.version)) tracked.appliedAt.set(p.version, now());
          });
          display.client.once('welcome', () => (tracked.firstWelcomeAt = now()));
          tracked.display = display;
          displays.push(tracked);
          byId.set(id, tracked);
          void display.start();
        }
        if (i >= credentials.length && launching) {
          clearInterval(launching);
          launching = null;
        }
      }, 10);
      return { launching: credentials.length };
    }
    case 'status':
      return status();
    case 'applied': {
      // For each display: when it first applied a version ≥ the expected one (null if never).
      const out: (number | null)[] = [];
      let stale = 0;
      for (const [id, version] of cmd.expect) {
        const t = byId.get(id);
        let at: number | null = null;
        if (t) for (const [v, when] of t.appliedAt) if (v >= version && (at === null || when < at)) at = when;
        if (at === null) stale++;
        out.push(at);
      }
      return { times: out, stale };
    }
    case 'welcomes':
      return { times: displays.map((t) => t.firstWelcomeAt || null) };
    case 'stopPlays':
      // Displays stop playing but keep flushing what they recorded (a run ends with zero unsent).
      for (const t of displays) t.display.stopPlaying();
      return { ok: true };
    case 'stopAll':
      if (launching) clearInterval(launching);
      launching = null;
      for (const t of displays) t.display.stop();
      displays.length = 0;
      byId.clear();
      return { ok: true };
    case 'memory':
      return process.memoryUsage();
    case 'samplePlaylist':
      return displays[0]?.display.client.playlist ?? null;
  }
}

process.on('message', (msg: { seq: number; cmd: SimCommand }) => {
  let reply: unknown;
  try {
    reply = { seq: msg.seq, ok: true, value: handle(msg.cmd) };
  } catch (err) {
    reply = { seq: msg.seq, ok: false, error: String(err) };
  }
  process.send!(reply);
});
process.on('disconnect', () => process.exit(0));
