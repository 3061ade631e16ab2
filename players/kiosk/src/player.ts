/**
 * The kiosk player daemon: one display's connection (packages/display-client), its playlist and
 * media on disk, the page server and the Chromium that shows it, proof of play from the page's
 * reports, and the `reload` / `screenshot` commands. Everything it needs to keep playing is on
 * disk, so it plays on without the server — also after a restart — until the playlist's
 * validity window ends.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DisplayClient, mediaOf, type BackoffOptions, type CommandOutcome, type Command, type CommandContext, type Playlist, type PlaylistEntry, type TlsOptions } from '@marquee/display-client';
import { KioskBrowser } from './browser.ts';
import { MediaCache } from './media-cache.ts';
import { PageServer } from './page-server.ts';
import { FilePlayStore } from './play-journal.ts';
import { ProofOfPlay } from './proof.ts';
import { PlayerState } from './state.ts';

export interface PlayerConfig {
  host: string;
  port: number;
  displayId: string;
  secret: string;
  tls?: TlsOptions;
  dataDir: string;
  /** Debian's Chromium by default; null runs the daemon without a screen (tests of the daemon alone). */
  chromiumPath: string | null;
  headless: boolean;
  width: number;
  height: number;
  /** Port of the local page server (default: any free port). */
  pagePort?: number;
  /** How soon plays go out after they are recorded (default 5 s). */
  batchEveryMs?: number;
  backoff?: Partial<BackoffOptions>;
  log?: (line: string) => void;
}

export interface RunningPlayer {
  client: DisplayClient;
  cache: MediaCache;
  pageServer: PageServer;
  browser: KioskBrowser | null;
  proof: ProofOfPlay;
  plays: FilePlayStore;
  /** The playlist on screen (restored from disk or received), null if none. */
  readonly playlist: Playlist | null;
  stop(): Promise<void>;
}

const CLIENT = { name: 'marquee-kiosk-player', version: '1' };
const CLOCK_SAVE_EVERY_MS = 60_000;

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function startPlayer(config: PlayerConfig): Promise<RunningPlayer> {
  const log = config.log ?? ((line: string) => console.log(`${new Date().toISOString()} ${line}`));
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const cache = new MediaCache(config.dataDir);
  await cache.init();
  const state = new PlayerState(config.dataDir);
  const plays = new FilePlayStore(path.join(config.dataDir, 'plays.journal'));

  // The playlist shown before the restart plays on if all its media are still intact on disk.
  let current: Playlist | null = null;
  let previous: Playlist | null = null;
  const stored = await state.loadPlaylist();
  const savedOffset = await state.loadClockOffset();
  if (stored) {
    const intact = (await Promise.all(mediaOf(stored).map((m) => cache.verify(m.mediaSha256)))).every(Boolean);
    if (Date.now() + (savedOffset ?? 0) >= Date.parse(stored.validUntil)) log(`stored playlist v${stored.version} expired at ${stored.validUntil}; waiting for the server`);
    else if (intact) {
      current = stored;
      log(`restored playlist v${stored.version} from disk (valid until ${stored.validUntil})`);
    } else log(`stored playlist v${stored.version} has missing or damaged media; waiting for the server`);
    await cache.evict(new Set(mediaOf(stored).map((m) => m.mediaSha256)));
  }

  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  };

  let browser: KioskBrowser | null = null;
  let lastClockSave = 0;

  async function apply(playlist: Playlist): Promise<void> {
    const media = mediaOf(playlist);
    await inParallel(media, 3, (m) => cache.ensure(m));
    await state.savePlaylist(playlist);
    if (current && current.version !== playlist.version) previous = current;
    current = playlist;
    pageServer.setPlaylist(playlist);
    log(`playlist v${playlist.version} on screen: ${playlist.entries.length} entries, ${playlist.loop.slotCount} slots × ${playlist.loop.slotMs / 1000} s${playlist.entries.some((e) => e.kind === 'emergency') ? ', EMERGENCY' : ''}${playlist.entries.some((e) => e.kind === 'house') ? ', house content' : ''}`);
    // Media of the playlist just replaced may still be on screen for a moment; anything older goes.
    const keep = new Set([...media, ...(previous ? mediaOf(previous) : [])].map((m) => m.mediaSha256));
    const evicted = await cache.evict(keep);
    if (evicted) log(`evicted ${evicted} media file(s) no playlist references`);
  }

  async function onCommand(command: Command, ctx: CommandContext): Promise<CommandOutcome | undefined> {
    if (command.kind === 'reload') {
      // Re-read what is on disk (media re-verified, anything missing fetched again) and restart the page.
      if (current) {
        await inParallel(mediaOf(current), 3, async (m) => {
          if (!(await cache.verify(m.mediaSha256))) await cache.ensure(m);
        });
      }
      pageServer.setPlaylist(current);
      await browser?.reload();
      return { ok: true, result: {} };
    }
    if (command.kind === 'screenshot') {
      if (!browser) return { ok: false, error: 'this player runs without a screen' };
      const maxWidth = Number.isSafeInteger(command.args.maxWidth) && (command.args.maxWidth as number) > 0 ? (command.args.maxWidth as number) : 1280;
      // Room for the frame's JSON around the base64 data.
      const shot = await browser.screenshot(maxWidth, ctx.maxResultBytes - 512);
      return { ok: true, result: { ...shot } };
    }
    return undefined;
  }

  // Offline after a restart, the loop stays in step with the server's clock as last measured.
  const client = new DisplayClient({
    host: config.host,
    port: config.port,
    displayId: config.displayId,
    secret: config.secret,
    ...(config.tls ? { tls: config.tls } : {}),
    client: CLIENT,
    playlistVersion: current?.version ?? 0,
    ...(savedOffset !== null ? { clockOffsetMs: savedOffset } : {}),
    playStore: plays,
    batchEveryMs: config.batchEveryMs ?? 5_000,
    ...(config.backoff ? { backoff: config.backoff } : {}),
    applyPlaylist: apply,
    onCommand,
  });
  client.on('log', log);
  client.on('clock', (clock) => {
    const now = Date.now();
    if (now - lastClockSave < CLOCK_SAVE_EVERY_MS) return;
    lastClockSave = now;
    void state.saveClockOffset(clock.offsetMs).catch((err) => log(`clock offset not saved: ${(err as Error).message}`));
  });

  const entryFor = (bookingId: string, creativeId: string, sha: string): PlaylistEntry | null => {
    for (const p of [current, previous]) {
      const e = p?.entries.find((x) => x.kind === 'booking' && x.bookingId === bookingId && x.creativeId === creativeId && x.mediaSha256 === sha);
      if (e) return e;
    }
    return null;
  };
  const proof = new ProofOfPlay({
    entryFor,
    record: (play) => track(client.recordPlay(play)),
    serverNow: () => client.serverNow(),
    log,
  });
  const pageServer = new PageServer({
    cache,
    serverNow: () => client.serverNow(),
    onReport: (events) => proof.onEvents(events),
    onPageGone: () => proof.pageGone(),
    ...(config.pagePort !== undefined ? { port: config.pagePort } : {}),
  });
  await pageServer.listen();
  pageServer.setPlaylist(current);

  // Past its validity window a playlist shows nothing; report version 0 so the server sends a fresh one.
  const expiryCheck = setInterval(() => {
    if (current && client.playlistVersion === current.version && client.serverNow() >= Date.parse(current.validUntil)) {
      log(`playlist v${current.version} expired at ${current.validUntil}; asking the server for the current one`);
      client.resetPlaylist();
    }
  }, 30_000);
  expiryCheck.unref();

  if (config.chromiumPath) {
    browser = new KioskBrowser({ executablePath: config.chromiumPath, headless: config.headless, width: config.width, height: config.height, url: pageServer.url, log });
    await browser.start();
  }
  log(`player for display ${config.displayId}: page on 127.0.0.1:${pageServer.port}, data in ${config.dataDir}, server ${config.host}:${config.port}${config.tls ? ' (TLS)' : ''}`);
  await client.start();

  return {
    client,
    cache,
    pageServer,
    browser,
    proof,
    plays,
    get playlist() {
      return current;
    },
    async stop() {
      // Close the screen first: what it showed last becomes a (shorter) play, stored before we exit.
      clearInterval(expiryCheck);
      await browser?.close();
      proof.pageGone();
      await Promise.allSettled([...pending]);
      client.stop();
      await state.saveClockOffset(client.clock.offsetMs).catch(() => {});
      await pageServer.close();
      await plays.close();
    },
  };
}
