/**
 * The web console in real Chromium against the real platform (account, api-v2, device-tcp, the
 * console service and the local edge; PostgreSQL and Redis) with simulated displays speaking the
 * display protocol. One story, as people would click it: an operator registers two displays and
 * activates them (one reviews content); an advertiser signs up, uploads an image by drag and drop
 * (the connection drops once mid-upload and the upload resumes), books both displays (hold →
 * confirm); the `auto` screen gets the creative, the `review` one once the operator approved it in
 * the review queue (the advertiser's page follows live); the operator then trusts the advertiser;
 * the advertiser swaps the creative and the operator's open page shows the new applied
 * version without a reload and without polling (the live events stream); the report shows the plays and downloads as CSV.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimDisplay } from '../../tools/display-sim/display.ts';
import { PNG_1X1 } from '../../services/api-v2/test/media-fixtures.ts';
import { chromiumOrWarn, launchChromium, textMatching } from '../support/browser.ts';
import { startConsolePlatform, type ConsolePlatform } from '../support/console-platform.ts';
import { until } from '../support/until.ts';

const chromiumPath = chromiumOrWarn();
const PASSWORD = 'a-long-enough-passphrase';
const CHUNK = 1024 * 1024;
/** The display whose content policy is `review`. */
const REVIEWED = 'Market square';

describe.skipIf(!chromiumPath)('web console in Chromium', () => {
  let cp: ConsolePlatform;
  let db: postgres.Sql;
  let browser: Browser;
  let operator: Page;
  let advertiser: Page;
  const contexts: BrowserContext[] = [];
  const sims: SimDisplay[] = [];
  const pageErrors: string[] = [];
  const screens: { name: string; id: string; secret: string }[] = [];
  let bookingUrl = '';

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: cp.url, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    // Any script error or CSP violation in the app fails the story.
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) pageErrors.push(`console: ${msg.text()}`);
    });
    return page;
  }

  /** The advertiser's booking page: the approval state of the booking on one display. */
  const approvalOn = (displayName: string) => advertiser.getByRole('listitem').filter({ hasText: displayName }).getByTestId('approval-state');

  async function signUp(page: Page, role: 'advertiser' | 'operator'): Promise<string> {
    const username = `${role.slice(0, 3)}${randomBytes(4).toString('hex')}`;
    await page.goto('/signup');
    await page.getByLabel(role === 'operator' ? /offer my screens/ : /advertise on screens/).check();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    return username;
  }

  beforeAll(async () => {
    cp = await startConsolePlatform('console_browser');
    db = postgres(cp.platform.db.url, { max: 1, onnotice: () => {} });
    browser = await launchChromium(chromiumPath!);
    operator = await newPage();
    advertiser = await newPage();
  }, 120_000);

  afterAll(async () => {
    for (const s of sims) s.stop();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await db?.end();
    await cp?.close();
  });

  it('serves the app with its CSP at / and routes client paths to it', async () => {
    const res = await fetch(`${cp.url}/operator/displays`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    await advertiser.goto('/');
    await advertiser.getByRole('heading', { name: 'Sign in to Marquee' }).waitFor();
    // A refused sign-up shows the API's own problem detail. (Not a failed login: those count
    // against 127.0.0.1 in the login throttle every suite on this machine shares.)
    await advertiser.getByRole('link', { name: 'Create an account' }).click();
    await advertiser.getByLabel('Username').fill(`weak${randomBytes(4).toString('hex')}`);
    await advertiser.getByLabel('Password').fill('password');
    await advertiser.getByRole('button', { name: 'Create account' }).click();
    expect(await textMatching(advertiser.getByRole('alert'), /too common/)).toMatch(/Could not create the account.*Password is too common/);
  }, 120_000);

  it('an operator registers two displays (credential shown once) and activates them', async () => {
    await signUp(operator, 'operator');
    await operator.getByRole('heading', { name: 'No displays yet' }).waitFor();
    for (const [name, lat] of [['Station hall', '52.525'], ['Market square', '52.519']] as const) {
      await operator.getByRole('button', { name: 'Register a display' }).click();
      const form = operator.getByRole('form', { name: 'Register a display' });
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('Address').fill(`${name}, Berlin`);
      await form.getByLabel('Latitude').fill(lat);
      await form.getByLabel('Longitude').fill('13.369');
      await form.getByLabel('Time zone').fill('Europe/Berlin');
      // A short loop (six slots of 1 s): the booking's slot comes every 6 s, so plays come soon.
      await form.getByLabel('Loop length (s)').fill('6');
      await form.getByLabel('Slots per loop').fill('6');
      await form.getByLabel('Price per slot-hour').fill('4.00');
      await form.getByLabel('Impressions per play').fill('3');
      // The market square's operator reviews what is booked there; the station hall plays it as booked.
      await form.getByLabel('Booked content').selectOption(name === REVIEWED ? 'review' : 'auto');
      await form.getByLabel('Tags').fill('transit, indoor');
      // Keyboard only: Enter in a field submits the form.
      await form.getByLabel('Tags').press('Enter');
      await operator.getByRole('heading', { name: 'Store this display credential now' }).waitFor();
      expect(await operator.getByText('This secret is shown only once.').count()).toBe(1);
      const id = (await operator.getByTestId('credential-display-id').textContent())!.trim();
      const secret = await operator.getByTestId('credential-secret').inputValue();
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(secret.length).toBeGreaterThanOrEqual(40);
      screens.push({ name, id, secret });
      await operator.getByRole('button', { name: 'I have stored the secret' }).click();
      await operator.getByRole('heading', { name: 'Store this display credential now' }).waitFor({ state: 'detached' });
    }
    for (const screen of screens) {
      await operator.getByRole('link', { name: screen.name }).click();
      // A route change moves focus to the new page's heading (keyboard and screen reader users land there).
      await operator.getByRole('heading', { name: screen.name, level: 1 }).waitFor();
      expect(await operator.evaluate(() => (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string } | null } }).document.activeElement?.textContent)).toBe(screen.name);
      await operator.getByRole('button', { name: 'Activate (offer to advertisers)' }).click();
      await operator.getByRole('button', { name: 'Disable (take offline)' }).waitFor();
      await operator.getByRole('link', { name: 'My displays' }).click();
    }
    // Both displays connect (simulated devices with the credentials copied from the page), in real
    // time: plays made at another speed are not plays the platform counts.
    for (const screen of screens) {
      const sim = new SimDisplay({ host: '127.0.0.1', port: cp.device.devicePort, displayId: screen.id, secret: screen.secret, plays: true, batchEveryMs: 300 });
      sims.push(sim);
      await sim.start();
    }
    for (const screen of screens) await textMatching(operator.getByTestId(`display-row-${screen.id}`), /online/);
  }, 120_000);

  it('an advertiser uploads an image by drag and drop; the upload survives a dropped connection', async () => {
    await signUp(advertiser, 'advertiser');
    await advertiser.getByRole('link', { name: 'Creatives' }).click();
    await advertiser.getByRole('heading', { name: 'No creatives yet' }).waitFor();

    // The second chunk's first attempt loses its connection, as on a flaky network.
    let dropped = 0;
    await advertiser.route('**/v2/uploads/*', async (route) => {
      const req = route.request();
      if (req.method() === 'PUT' && req.headers()['content-range']?.startsWith(`bytes ${CHUNK}-`) && dropped === 0) {
        dropped++;
        return route.abort('connectionreset');
      }
      return route.continue();
    });

    const image = Buffer.concat([PNG_1X1, randomBytes(Math.floor(2.5 * CHUNK))]);
    const dataTransfer = await advertiser.evaluateHandle(
      ({ base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        // Runs in the page: the browser's DataTransfer (this file is typed for Node, without the DOM lib).
        const { DataTransfer: PageDataTransfer } = globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } };
        const transfer = new PageDataTransfer();
        transfer.items.add(new File([bytes], 'summer-sale.png', { type: 'image/png' }));
        return transfer;
      },
      { base64: image.toString('base64') },
    );
    await advertiser.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer });
    const status = advertiser.getByTestId('upload-status');
    await textMatching(status, /Uploaded — 100 %.*resumed after 1 dropped connection/, 90_000);
    expect(dropped).toBe(1);
    await advertiser.unroute('**/v2/uploads/*');

    const save = advertiser.getByRole('form', { name: 'Save summer-sale.png as a creative' });
    await save.getByLabel('Creative name').fill('Summer sale');
    await save.getByRole('button', { name: 'Save as creative' }).click();
    await advertiser.getByText('Saved as “Summer sale”').waitFor();
    // The stored bytes are exactly the file's.
    const [media] = await db<{ sha256: string; size_bytes: string }[]>`select m.sha256, m.size_bytes from creatives c join media m on m.sha256 = c.media_sha256 where c.name = 'Summer sale'`;
    expect(Number(media!.size_bytes)).toBe(image.length);
    const served = Buffer.from(await (await fetch(`${cp.url}/v2/media/${media!.sha256}`)).arrayBuffer());
    expect(served.equals(image)).toBe(true);
    await advertiser.getByRole('img', { name: 'Creative “Summer sale”' }).waitFor();

    // A second creative to swap in later: a text card.
    await advertiser.getByRole('button', { name: 'Write a text or HTML card…' }).click();
    const card = advertiser.getByRole('form', { name: 'New text or HTML card' });
    await card.getByLabel('Name').fill('Sale ends Sunday');
    await card.getByRole('textbox', { name: 'Text' }).fill('Sale ends Sunday!');
    await card.getByRole('button', { name: 'Save card' }).click();
    await advertiser.getByRole('heading', { name: 'Sale ends Sunday' }).waitFor();
  }, 120_000);

  it('books both displays: hold with countdown and price, then confirm; the `auto` screen gets the creative, the `review` one waits', async () => {
    await advertiser.getByRole('link', { name: 'Find displays' }).click();
    await advertiser.getByRole('textbox', { name: 'Tags' }).fill('transit');
    await advertiser.getByRole('button', { name: 'Apply filters' }).click();
    for (const screen of screens) await advertiser.getByLabel(`Add “${screen.name}” to booking`).check();
    await advertiser.getByRole('link', { name: 'Book 2 displays →' }).click();
    await advertiser.getByLabel('Creative').selectOption({ label: 'Summer sale (image)' });
    await advertiser.getByRole('button', { name: 'Hold 2 displays and see the price' }).click();
    await advertiser.getByRole('heading', { name: /Held for you/ }).waitFor();
    expect(await textMatching(advertiser.locator('.countdown'), /^1[0-4]:\d\d|^\d:\d\d/)).toBeTruthy();
    const price = await advertiser.getByTestId('hold-price').textContent();
    expect(price).toMatch(/Total .*€|Total .*EUR/);
    await advertiser.getByRole('button', { name: 'Confirm booking' }).click();
    await advertiser.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
    bookingUrl = advertiser.url();
    await advertiser.locator('.badge', { hasText: 'booked' }).first().waitFor();

    const [summer] = await db<{ id: string }[]>`select id from creatives where name = 'Summer sale'`;
    const [auto, reviewed] = [sims[0]!, sims[1]!];
    await until('the auto screen to show the booked creative', () => auto.currentPlaylist?.entries.some((e) => e.creativeId === summer!.id) ?? false, 20_000);
    // The reviewed screen's playlist does not carry it (it is not approved: nothing can have sent it).
    expect(reviewed.currentPlaylist?.entries.some((e) => e.creativeId === summer!.id) ?? false).toBe(false);
    expect(await textMatching(approvalOn(screens[0]!.name), /approved/)).toBe('approved');
    expect(await textMatching(approvalOn(REVIEWED), /awaiting review/)).toMatch(/house content/);
  }, 120_000);

  it("the operator approves the creative in the review queue: the screen gets it, the advertiser's page follows without a reload", async () => {
    const [summer] = await db<{ id: string }[]>`select id from creatives where name = 'Summer sale'`;
    await advertiser.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    await operator.getByRole('link', { name: 'Review queue' }).click();
    await operator.getByRole('heading', { name: 'Review queue', level: 1 }).waitFor();
    const item = operator.getByRole('listitem').filter({ has: operator.getByRole('heading', { name: 'Summer sale' }) });
    await item.getByRole('img', { name: 'Creative “Summer sale”' }).waitFor();
    const advertiserId = (await item.getByTestId('review-advertiser').textContent())!.trim();
    // A rejection needs a reason; it is what the advertiser reads.
    await item.getByRole('button', { name: 'Reject…' }).click();
    expect(await item.getByRole('button', { name: 'Reject with this reason' }).isDisabled()).toBe(true);
    await item.getByRole('button', { name: 'Cancel' }).click();
    await item.getByRole('button', { name: 'Approve “Summer sale”' }).click();
    await operator.getByRole('heading', { name: 'Nothing to review' }).waitFor();

    await until('the reviewed screen to show the approved creative', () => sims[1]!.currentPlaylist?.entries.some((e) => e.creativeId === summer!.id) ?? false, 20_000);
    // The advertiser's open booking page hears approval.changed and shows both approved, without a reload.
    await textMatching(approvalOn(REVIEWED), /^approved$/);
    expect(await advertiser.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);

    // The operator trusts this advertiser from here on (the swap below then plays at once everywhere).
    await operator.getByLabel('Advertiser id').fill('not-an-id');
    expect(await operator.getByRole('button', { name: 'Trust advertiser' }).isDisabled()).toBe(true);
    await operator.getByLabel('Advertiser id').fill(advertiserId);
    await operator.getByRole('button', { name: 'Trust advertiser' }).click();
    await operator.getByRole('button', { name: `Stop trusting ${advertiserId}` }).waitFor();
    await operator.getByRole('link', { name: 'My displays' }).click();
  }, 120_000);

  it("swapping the creative reaches the screens, and the operator's open page shows the new applied version without a reload or a poll", async () => {
    const screen = screens[0]!;
    const sim = sims[0]!;
    await operator.getByRole('link', { name: screen.name }).click();
    const versionState = operator.getByTestId('version-state');
    const before = await textMatching(versionState, /\(up to date\)/);
    await operator.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    // From here on, every read of this display's status the page makes (a poll would be one).
    const displayReads: string[] = [];
    const onRequest = (req: { url(): string; method(): string }) => {
      const path = new URL(req.url()).pathname;
      if (req.method() === 'GET' && (path === `/v2/displays/${screen.id}` || path === '/v2/displays')) displayReads.push(path);
    };
    operator.on('request', onRequest);

    await advertiser.getByLabel('Swap in').selectOption({ label: 'Sale ends Sunday (text)' });
    await advertiser.getByRole('button', { name: 'Swap creative' }).click();
    await textMatching(advertiser.getByTestId('booking-creative'), /Sale ends Sunday/);

    const [text] = await db<{ id: string }[]>`select id from creatives where name = 'Sale ends Sunday'`;
    await until('the swapped creative on both screens', () => sims.every((s) => s.currentPlaylist?.entries.some((e) => e.creativeId === text!.id)), 20_000);
    const version = sim.playlistVersion;
    const after = await textMatching(versionState, new RegExp(`applied v${version} of v${version} \\(up to date\\)`));
    expect(after).not.toBe(before);
    expect(await operator.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    // Neither a reload nor a poll: the new version came over GET /v2/events (polling runs only
    // while the stream is down, every FALLBACK_POLL_MS = 30 s) and no display was read meanwhile.
    operator.off('request', onRequest);
    expect(displayReads).toEqual([]);

    // Commands from the same page: a screenshot comes back and is shown.
    await operator.getByRole('button', { name: 'Take screenshot' }).click();
    await operator.getByRole('img', { name: /Screenshot taken/ }).waitFor();
  }, 120_000);

  it('the report shows the plays (per day, per creative, per display) and downloads them as CSV', async () => {
    await advertiser.goto(bookingUrl);
    const totals = await textMatching(advertiser.getByTestId('report-totals'), /^[1-9][\d,.]* plays/, 60_000);
    const plays = Number(totals.split(' plays')[0]!.replace(/\D/g, ''));
    const [counted] = await db<{ n: number }[]>`select count(*)::int as n from plays`;
    expect(plays).toBeLessThanOrEqual(counted!.n);
    await advertiser.getByRole('img', { name: /^Plays per day/ }).waitFor();
    await advertiser.getByRole('img', { name: /^Plays per creative/ }).waitFor();

    // The CSV is the API's own (Accept: text/csv): one line per display, creative and bucket.
    const [download] = await Promise.all([advertiser.waitForEvent('download'), advertiser.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^marquee-booking-[0-9a-f-]{36}-plays\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const [header, ...rows] = csv.trim().split('\r\n').map((r) => r.split(','));
    expect(header).toEqual(['booking_id', 'display_id', 'display_name', 'creative_id', 'bucket', 'bucket_start', 'plays', 'impressions']);
    const csvPlays = rows.reduce((n, r) => n + Number(r[6]), 0);
    expect(csvPlays).toBeGreaterThanOrEqual(plays);
    expect(rows.every((r) => screens.some((s) => s.name === r[2]))).toBe(true);
    // Impressions = plays × the displays' audience multiplier (3), frozen when each play was stored.
    expect(rows.reduce((n, r) => n + Number(r[7]), 0)).toBe(csvPlays * 3);
    // Plays are attributed to the creative shown when each started: the image before the swap, the
    // card after (which of them has played by now depends on where the loop was).
    const named = new Map((await db<{ id: string; name: string }[]>`select id, name from creatives`).map((c) => [c.id, c.name]));
    const played = rows.filter((r) => Number(r[6]) > 0).map((r) => named.get(r[3]!));
    expect(played.length).toBeGreaterThan(0);
    expect(played.every((name) => name === 'Summer sale' || name === 'Sale ends Sunday')).toBe(true);
  }, 120_000);

  it('the operator sees the bookings on their displays and the revenue', async () => {
    await operator.getByRole('link', { name: 'Bookings & revenue' }).click();
    expect(await textMatching(operator.getByTestId('revenue'), /confirmed/)).toMatch(/€|EUR/);
  }, 120_000);

  it('an operator with more displays than one page holds sees them all, a page at a time', async () => {
    // 200 more screens (the page size), straight into the database: registering them by clicking adds nothing here.
    const [{ operator_id: operatorId }] = (await db`select operator_id from displays where id = ${screens[0]!.id}`) as unknown as [{ operator_id: string }];
    await db`
      insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms, slot_count, price_per_slot_hour, currency, status, content_policy, credential_hash)
      select ${operatorId}, 'Bus stop ' || lpad(n::text, 3, '0'), 52.5, 13.4, 'Europe/Berlin', 1920, 1080, 'landscape', 60000, 6, 100, 'EUR', 'pending', 'auto', decode(md5(n::text), 'hex')
      from generate_series(1, 200) n`;
    await operator.getByRole('link', { name: 'My displays' }).click();
    await operator.reload();
    const rows = operator.locator('[data-testid^="display-row-"]');
    await until('the first page', async () => (await rows.count()) === 200, 20_000);
    await operator.getByRole('button', { name: 'Show more displays' }).click();
    await until('all 202 displays', async () => (await rows.count()) === 202, 20_000);
    await operator.getByRole('button', { name: 'Show more displays' }).waitFor({ state: 'detached' });
  }, 120_000);

  it('ran without a script error or CSP violation', () => {
    expect(pageErrors).toEqual([]);
  });
});
