/**
 * `npm run console:screenshots`: the PNGs of the main console screens in docs/console/, taken in
 * Debian's Chromium against a real platform (test/support/console-platform.ts: scratch database
 * on the local PostgreSQL, Redis) seeded through the public API, with simulated displays playing.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { SimDisplay } from '../tools/display-sim/display.ts';
import { findChromium, launchChromium, textMatching, CHROMIUM_MISSING } from '../test/support/browser.ts';
import { startConsolePlatform } from '../test/support/console-platform.ts';
import { api, createDisplay } from '../test/support/platform.ts';

const OUT = path.resolve(import.meta.dirname, '../docs/console');
const PASSWORD = 'a-long-enough-passphrase';

const chromiumPath = findChromium();
if (!chromiumPath) {
  console.error(CHROMIUM_MISSING);
  process.exit(1);
}
await mkdir(OUT, { recursive: true });
const cp = await startConsolePlatform('console_screens');
const v2 = `${cp.url}/v2`;
const sims: SimDisplay[] = [];
let browser: Browser | undefined;

async function account(username: string, accountType: 'advertiser' | 'operator') {
  await api(v2, 'POST', '/auth/signup', { username, password: PASSWORD, accountType });
  const login = await api(v2, 'POST', '/auth/login', { username, password: PASSWORD });
  return { username, auth: { authorization: `Bearer ${login.body.accessToken as string}` } };
}

async function signIn(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

async function shot(page: Page, name: string, fullPage = false) {
  // A display secret never goes into the repository, not even a throwaway one in a picture.
  const secrets = page.getByTestId('credential-secret');
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage, mask: (await secrets.count()) ? [secrets] : [] });
  console.log(`docs/console/${name}.png`);
}

try {
  // Seed: an operator with three displays (two online and playing), an advertiser with creatives
  // and a confirmed booking on the two online displays.
  const operator = await account('citylight-screens', 'operator');
  const advertiser = await account('acme-coffee', 'advertiser');
  const places = [
    { name: 'Central Station hall', address: 'Europaplatz 1, Berlin', lat: 52.525, lng: 13.369, tags: ['transit', 'indoor'], pricePerSlotHour: 450, audienceMultiplier: 12 },
    { name: 'Market square', address: 'Alexanderplatz, Berlin', lat: 52.521, lng: 13.413, tags: ['outdoor', 'retail'], pricePerSlotHour: 380, audienceMultiplier: 8 },
    { name: 'Mall food court', address: 'Leipziger Platz 12, Berlin', lat: 52.51, lng: 13.38, tags: ['mall', 'indoor'], pricePerSlotHour: 290, audienceMultiplier: 5, contentPolicy: 'review' },
  ];
  const displays: { id: string; secret: string; name: string }[] = [];
  for (const place of places) {
    const { name, address, lat, lng, ...rest } = place;
    displays.push({ ...(await createDisplay(v2, operator.auth, { name, location: { address, lat, lng }, ...rest }, { activate: true })), name });
  }
  for (const d of displays.slice(0, 2)) {
    const sim = new SimDisplay({ host: '127.0.0.1', port: cp.device.devicePort, displayId: d.id, secret: d.secret, plays: true, speed: 30, batchEveryMs: 500 });
    sims.push(sim);
    await sim.start();
  }

  browser = await launchChromium(chromiumPath);
  const context = await browser.newContext({ baseURL: cp.url, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);

  // A real image creative: a banner rendered by the browser itself.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.setContent(
    `<body style="margin:0"><div style="width:1280px;height:720px;display:grid;place-items:center;background:linear-gradient(135deg,#1d3557,#0b5cad 60%,#f1c453);font:700 96px system-ui;color:#fff;text-align:center">Summer sale<br><span style="font-size:48px;font-weight:400">-30 % on every cold brew</span></div></body>`,
  );
  const banner = await page.screenshot({ type: 'png' });
  await page.setViewportSize({ width: 1280, height: 800 });
  const upload = await api(v2, 'POST', '/uploads', { contentType: 'image/png', totalBytes: banner.length }, advertiser.auth);
  await fetch(`${v2}/uploads/${upload.body.id}`, {
    method: 'PUT',
    headers: { ...advertiser.auth, 'content-type': 'application/octet-stream', 'content-range': `bytes 0-${banner.length - 1}/${banner.length}` },
    body: banner,
  });
  const media = await api(v2, 'POST', `/uploads/${upload.body.id}/complete`, undefined, advertiser.auth);
  const image = await api(v2, 'POST', '/creatives', { name: 'Summer sale banner', type: 'image', mediaSha256: media.body.sha256, durationMs: 10_000 }, advertiser.auth);
  const hours = await api(v2, 'POST', '/creatives', { name: 'Opening hours', type: 'text', body: 'Open every day 7:00–22:00\nAcme Coffee, platform 3', durationMs: 8_000 }, advertiser.auth);
  const latte = await api(
    v2,
    'POST',
    '/creatives',
    { name: 'Latte art (HTML)', type: 'html', body: '<div style="font:48px Georgia;color:#6b3e26;background:#fdf3e7;height:100vh;display:grid;place-items:center">Latte art, daily</div>', durationMs: 8_000 },
    advertiser.auth,
  );
  const hold = await api(
    v2,
    'POST',
    '/bookings',
    { displayIds: displays.slice(0, 2).map((d) => d.id), creativeId: image.body.id, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 14 * 86_400_000).toISOString() },
    { ...advertiser.auth, 'idempotency-key': randomUUID() },
  );
  await api(v2, 'POST', `/bookings/${hold.body.id}/confirm`, undefined, advertiser.auth);
  // The food court reviews content: one creative waits in the queue, another was rejected.
  const reviewed = async (creativeId: string) => {
    const b = await api(
      v2,
      'POST',
      '/bookings',
      { displayIds: [displays[2]!.id], creativeId, startsAt: new Date(Date.now() + 86_400_000).toISOString(), endsAt: new Date(Date.now() + 8 * 86_400_000).toISOString() },
      { ...advertiser.auth, 'idempotency-key': randomUUID() },
    );
    await api(v2, 'POST', `/bookings/${b.body.id}/confirm`, undefined, advertiser.auth);
    return b.body.id as string;
  };
  await reviewed(hours.body.id);
  const rejectedBooking = await reviewed(latte.body.id);
  const queue = await api(v2, 'GET', '/approvals?state=pending', undefined, operator.auth);
  const latteApproval = (queue.body.items as { id: string; creativeId: string }[]).find((a) => a.creativeId === latte.body.id)!;
  await api(v2, 'POST', `/approvals/${latteApproval.id}/reject`, { reason: 'Please add the shop’s name: the mall asks every ad to name its shop.' }, operator.auth);
  // The operator's own creative, for house content and emergencies.
  await api(v2, 'POST', '/creatives', { name: 'Citylight: advertise here', type: 'text', body: 'Your ad here\ncitylight-screens.example', durationMs: 10_000 }, operator.auth);

  await page.goto('/login');
  await page.getByRole('heading', { name: 'Sign in to Marquee' }).waitFor();
  await shot(page, 'sign-in');

  // Advertiser screens.
  await signIn(page, advertiser.username);
  await page.getByRole('link', { name: 'Central Station hall' }).waitFor();
  await page.getByLabel('Add “Central Station hall” to booking').check();
  await page.getByLabel('Add “Mall food court” to booking').check();
  await shot(page, 'advertiser-displays');
  await page.getByRole('link', { name: 'Central Station hall' }).click();
  await page.locator('.week-grid').waitFor();
  await shot(page, 'advertiser-availability', true);
  await page.getByRole('link', { name: 'Creatives' }).click();
  await page.getByRole('img', { name: 'Creative “Summer sale banner”' }).waitFor();
  await shot(page, 'advertiser-creatives', true);
  await page.getByRole('link', { name: 'Book (2)' }).click();
  await page.getByLabel('Creative').selectOption({ label: 'Opening hours (text)' });
  await page.getByRole('button', { name: /^Hold 2 displays/ }).click();
  await page.getByRole('heading', { name: /Held for you/ }).waitFor();
  await shot(page, 'advertiser-hold');
  await page.getByRole('button', { name: 'Release the hold' }).click();
  await page.goto(`/bookings/${hold.body.id}`);
  await textMatching(page.getByTestId('report-totals'), /^[1-9]/, 60_000);
  await shot(page, 'advertiser-report', true);
  await page.goto(`/bookings/${rejectedBooking}`);
  await textMatching(page.getByTestId('approval-state'), /rejected/);
  await shot(page, 'advertiser-approval');
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Operator screens.
  await signIn(page, operator.username);
  for (const d of displays.slice(0, 2)) await textMatching(page.getByTestId(`display-row-${d.id}`), /online.*up to date/);
  await shot(page, 'operator-displays');
  await page.getByRole('link', { name: 'Central Station hall' }).click();
  await page.getByRole('button', { name: 'Take screenshot' }).click();
  await page.getByRole('img', { name: /Screenshot taken/ }).waitFor();
  await page.getByRole('button', { name: 'Reload player' }).click();
  await textMatching(page.locator('table.list tbody tr').first(), /reload\s*succeeded/);
  await shot(page, 'operator-display', true);
  await page.getByRole('link', { name: 'Bookings & revenue' }).click();
  await page.getByTestId('revenue').waitFor();
  await shot(page, 'operator-revenue');
  await page.getByRole('link', { name: 'Review queue' }).click();
  await page.getByRole('heading', { name: 'Opening hours' }).waitFor();
  await shot(page, 'operator-review-queue', true);
  await page.getByRole('link', { name: 'House content' }).click();
  await page.getByLabel('House content for Mall food court').selectOption({ label: 'Citylight: advertise here (your creative)' });
  await shot(page, 'operator-house-content', true);
  await page.getByRole('link', { name: 'Emergency override' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Platform 3 is closed. Please use the exit at platform 1.');
  await page.getByLabel('Central Station hall').check();
  await page.getByRole('button', { name: 'Start override on 1 display' }).click();
  await page.getByTestId('active-emergency').waitFor();
  await shot(page, 'operator-emergency', true);
  await page.getByRole('button', { name: 'Clear override' }).click();
  await page.getByTestId('active-emergency').waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'My displays' }).click();
  await page.getByRole('button', { name: 'Register a display' }).click();
  const form = page.getByRole('form', { name: 'Register a display' });
  await form.getByLabel('Name').fill('Airport gate B');
  await form.getByLabel('Latitude').fill('52.36');
  await form.getByLabel('Longitude').fill('13.50');
  await form.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('heading', { name: 'Store this display credential now' }).waitFor();
  await shot(page, 'operator-credential');

  // The same app on a tablet (portrait): the menu wraps, tables scroll sideways, nothing is cut.
  const tablet = await browser.newPage({ baseURL: cp.url, viewport: { width: 820, height: 1180 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
  await signIn(tablet, advertiser.username);
  await tablet.goto(`/bookings/${hold.body.id}`);
  await textMatching(tablet.getByTestId('report-totals'), /^[1-9]/, 60_000);
  await shot(tablet, 'tablet-advertiser-booking');
} finally {
  for (const s of sims) s.stop();
  await browser?.close();
  await cp.close();
}
