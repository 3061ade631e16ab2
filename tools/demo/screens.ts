/**
 * The demo's screens: one simulated display (tools/display-sim, on packages/display-client) per
 * demo display, in this process — the secrets stay in memory, never on a command line. Each
 * plays its loop on the server's clock and reports plays every couple of seconds. A display
 * whose stored secret is refused gets a new credential through the API, once.
 */
import type { Playlist } from '@marquee/display-client';
import { SimDisplay } from '../display-sim/display.ts';
import type { SeededDisplay } from './seed.ts';

export interface ScreensOptions {
  host: string;
  port: number;
  displays: SeededDisplay[];
  /** Creative names by id, for what the screens print. */
  creativeNames: Map<string, string>;
  rotateSecret(displayId: string): Promise<string>;
  log: (line: string) => void;
}

export interface Screens {
  /** Displays online now, and plays the server has recorded from them since start. */
  tally(): { online: number; total: number; playsRecorded: number };
  stop(): void;
}

/** Plays go out this long after the first unsent one: soon enough to watch the report count. */
const BATCH_EVERY_MS = 2_000;

export function connectScreens(opts: ScreensOptions): Screens {
  const { log } = opts;
  const sims = new Map<string, SimDisplay>();
  let playsRecorded = 0;
  let stopped = false;

  const describe = (p: Playlist) => {
    const shown = p.entries.map((e) => `slot ${e.slot} "${(e.creativeId && opts.creativeNames.get(e.creativeId)) ?? 'another creative'}"`);
    return shown.length ? shown.join(', ') : 'nothing booked yet';
  };

  function connect(display: SeededDisplay, secret: string, mayRotate: boolean): void {
    const sim = new SimDisplay({ host: opts.host, port: opts.port, displayId: display.id, secret, plays: true, batchEveryMs: BATCH_EVERY_MS });
    sims.set(display.id, sim);
    let wasOnline = false;
    sim.client.on('state', (state) => {
      if (state === 'online' && !wasOnline) log(`● ${display.name} online`);
      if (state !== 'online' && wasOnline && !stopped) log(`○ ${display.name} offline (${state}), reconnecting`);
      wasOnline = state === 'online';
    });
    sim.client.on('playlist', (p) => log(`  ${display.name} playlist v${p.version}: ${describe(p)}`));
    sim.client.on('playsAck', (outcome) => (playsRecorded += outcome.accepted.length));
    sim.client.on('serverError', (err) => {
      if (err.code !== 'auth_failed' || stopped) return;
      sim.stop();
      if (!mayRotate) {
        log(`✗ ${display.name}: its new credential was refused too (${err.message}); not retrying`);
        return;
      }
      log(`${display.name}: the stored device secret was refused, rotating its credential`);
      opts.rotateSecret(display.id).then(
        (fresh) => !stopped && connect(display, fresh, false),
        (e: Error) => log(`✗ ${display.name}: credential not rotated: ${e.message}`),
      );
    });
    void sim.start();
  }

  for (const display of opts.displays) connect(display, display.secret, true);

  return {
    tally: () => ({ online: [...sims.values()].filter((s) => s.state === 'online').length, total: opts.displays.length, playsRecorded }),
    stop() {
      stopped = true;
      for (const sim of sims.values()) sim.stop();
    },
  };
}
