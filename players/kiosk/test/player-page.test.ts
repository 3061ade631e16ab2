/**
 * The player page in real headless Chromium, fed by a hand-driven protocol server: what the screen
 * shows (pixels of real screenshots) for images, mp4 video, sandboxed HTML, text, house content
 * and an emergency, and which showings become plays.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileSchedule, normalizePlaylist, slotAt } from '@marquee/display-client';
import { FakeServer, testUuid, until, type FakeConnection } from '../../../packages/display-client/test/support/fake-server.ts';
import { startPlayer, type RunningPlayer } from '../src/player.ts';
import { CHROMIUM, describeWithBrowser } from './support/browser.ts';
import { MediaServer } from './support/media-server.ts';
import { near, pixelAt, solidPng, type Rgb } from './support/pixels.ts';

const RED: Rgb = [220, 30, 30];
const GREEN: Rgb = [30, 200, 60];
const YELLOW: Rgb = [240, 220, 20];
const VIDEO_BLUE: Rgb = [0x22, 0x3c, 0xde]; // blue-4s.mp4 is colour 0x2040e0 after H.264's YUV round trip
const SLOT_MS = 2_000;

let server: FakeServer;
let media: MediaServer;
let player: RunningPlayer;
let conn: FakeConnection;
let dataDir: string;
let version = 0;
const now = Date.now();
const window = { validFrom: new Date(now - 3600_000).toISOString(), validUntil: new Date(now + 3600_000).toISOString() };

function entry(slot: number, id: string, m: { mediaUrl: string; mediaSha256: string; sizeBytes: number }, type: string, mimeType: string, extra: Record<string, unknown> = {}) {
  return { slot, kind: 'booking', bookingId: testUuid(`b-${id}`), creativeId: testUuid(`c-${id}`), type, mimeType, ...m, durationMs: SLOT_MS, scripts: false, ...window, ...extra };
}

/** House or emergency content in a slot: an entry with no booking and no creative. */
function unbooked(kind: 'house' | 'emergency', slot: number, m: { mediaUrl: string; mediaSha256: string; sizeBytes: number }) {
  return entry(slot, kind, m, 'image', 'image/png', { kind, bookingId: null, creativeId: null });
}

function playlistOf(entries: unknown[], extra: Record<string, unknown> = {}, slotCount = 2) {
  return {
    displayId: 'd-1',
    version: ++version,
    generatedAt: new Date().toISOString(),
    ...window,
    loop: { lengthMs: slotCount * SLOT_MS, slotCount, slotMs: SLOT_MS, anchorAt: '1970-01-01T00:00:00.000Z' },
    entries,
    ...extra,
  };
}

function send(entries: unknown[], extra: Record<string, unknown> = {}, slotCount = 2) {
  const playlist = playlistOf(entries, extra, slotCount);
  conn.send({ type: 'playlist', playlist });
  return playlist;
}

async function screenColour(fx = 0.5, fy = 0.5): Promise<Rgb> {
  const shot = await player.browser!.screenshot(640, 50_000_000);
  return pixelAt(Buffer.from(shot.dataBase64, 'base64'), fx, fy);
}

/** Polls the screen until its centre shows `rgb` (a showing may be a slot away). */
async function waitForColour(what: string, rgb: Rgb, tolerance = 12) {
  let last: Rgb = [0, 0, 0];
  await until(
    `${what} (last seen ${last})`,
    async () => {
      last = await screenColour();
      return near(last, rgb, tolerance);
    },
    20_000,
  ).catch(() => {
    throw new Error(`screen never showed ${what} ${rgb}; last ${last}`);
  });
}

beforeAll(async () => {
  server = await FakeServer.start();
  media = await MediaServer.start();
  dataDir = mkdtempSync(path.join(tmpdir(), 'marquee-player-page-'));
  player = await startPlayer({ host: '127.0.0.1', port: server.port, displayId: 'd-1', secret: 's-1', dataDir, chromiumPath: CHROMIUM, headless: true, width: 640, height: 360, batchEveryMs: 200, log: () => {} });
  conn = await server.connection();
  await conn.welcome();
}, 60_000);

afterAll(async () => {
  await player?.stop();
  await server?.close();
  await media?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describeWithBrowser('kiosk page', () => {
  it('shows a booked image, house content in the free slot, and reports plays only for the booked slot', async () => {
    const red = media.add(solidPng(RED), 'image/png');
    const green = media.add(solidPng(GREEN), 'image/png');
    send([entry(0, 'red', red, 'image', 'image/png'), unbooked('house', 1, green)]);
    await conn.next('playlist_ack');
    await waitForColour('the booked image', RED);
    await waitForColour('house content in slot 1', GREEN);
    await waitForColour('the booked image again', RED);
    const batch = await conn.next('plays', 0, 20_000);
    conn.send({ type: 'plays_ack', batchId: batch.batchId, accepted: batch.plays.map((p: { playId: string }) => p.playId), rejected: [] });
    const schedule = compileSchedule(normalizePlaylist(playlistOf([entry(0, 'red', red, 'image', 'image/png')])).playlist);
    for (const p of batch.plays as { bookingId: string; startedAt: string; durationMs: number }[]) {
      expect(p.bookingId).toBe(testUuid('b-red')); // never the house content
      expect(slotAt(schedule, Date.parse(p.startedAt)).slot).toBe(0); // started inside its own slot
      expect(p.durationMs).toBeGreaterThan(0);
    }
  });

  it('plays an mp4 video', async () => {
    const video = media.add(readFileSync(path.join(import.meta.dirname, 'fixtures/blue-4s.mp4')), 'video/mp4');
    send([entry(0, 'video', video, 'video', 'video/mp4'), entry(1, 'video2', video, 'video', 'video/mp4')]);
    await waitForColour('the video', VIDEO_BLUE, 20);
  });

  it('renders html in a sandbox: no scripts unless the entry allows them', async () => {
    const doc = '<!doctype html><body style="margin:0;height:100vh;background:rgb(30,200,60)"><script>document.body.style.background="rgb(220,30,30)"</script></body>';
    const html = media.add(doc, 'text/html; charset=utf-8');
    send([entry(0, 'html', html, 'html', 'text/html; charset=utf-8'), entry(1, 'html1', html, 'html', 'text/html; charset=utf-8')]);
    await waitForColour('html with its script blocked', GREEN);
    const other = media.add(doc.replace('rgb(30,200,60)', 'rgb(240,220,20)'), 'text/html; charset=utf-8');
    send([entry(0, 'other', other, 'html', 'text/html; charset=utf-8'), entry(1, 'other1', other, 'html', 'text/html; charset=utf-8')]);
    await waitForColour('another html, its script blocked too', YELLOW);
    send([entry(0, 'other', other, 'html', 'text/html; charset=utf-8', { scripts: true }), entry(1, 'other1', other, 'html', 'text/html; charset=utf-8', { scripts: true })]);
    await waitForColour('html whose script may run', RED);
  });

  it('shows an emergency in every slot instead of the bookings and records no play for it', async () => {
    const red = media.add(solidPng(RED), 'image/png');
    const yellow = media.add(solidPng(YELLOW), 'image/png');
    send([entry(0, 'red2', red, 'image', 'image/png'), entry(1, 'red3', red, 'image', 'image/png')]);
    await waitForColour('the bookings', RED);
    // An emergency replaces every slot with an emergency entry (protocol §6).
    send([unbooked('emergency', 0, yellow), unbooked('emergency', 1, yellow)]);
    await waitForColour('the emergency', YELLOW);
    const emergencyOnScreenAt = player.client.serverNow();
    await new Promise((r) => setTimeout(r, 2.5 * SLOT_MS)); // two slot boundaries pass under the emergency
    expect(await screenColour()).toSatisfy((c: Rgb) => near(c, YELLOW));
    // The showing the emergency covered may still become a play; nothing that started under it does.
    expect(player.proof.recent.filter((p) => Date.parse(p.startedAt) >= emergencyOnScreenAt)).toEqual([]);
  });

  it('shows text', async () => {
    const text = media.add('Sale ends Sunday', 'text/plain; charset=utf-8');
    send([entry(0, 'text', text, 'text', 'text/plain; charset=utf-8'), entry(1, 'text1', text, 'text', 'text/plain; charset=utf-8')]);
    await until('the text on screen', async () => (await player.browser!.evaluate<string>('document.querySelector(".layer.visible")?.innerText ?? ""')) === 'Sale ends Sunday', 20_000);
  });
});
