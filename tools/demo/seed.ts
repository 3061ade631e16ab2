/**
 * Puts the demo on a running platform through the public API (the typed @marquee/api-client),
 * finding everything it made before by name: a second run creates nothing and only reconnects.
 *
 * Users: demo-operator and demo-advertiser, passwords generated on first run and kept in the data
 * folder. Displays: registered by the operator, activated by the admin (the admin password is in
 * the data folder `npm start` wrote). Creatives: PNG posters of their names, uploaded by the
 * advertiser. Bookings: held and confirmed by the advertiser, from now for BOOKING_DAYS.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createMarqueeClient, MarqueeApiError, unwrap, type Booking, type Creative, type Display, type MarqueeClient, type Problem, type Schemas } from '@marquee/api-client';
import { posterPng } from './poster.ts';
import { BOOKING_DAYS, CREATIVE_DURATION_MS, DEMO_BOOKINGS, DEMO_CREATIVES, DEMO_DISPLAYS, DEMO_LOOP, DEMO_USERS, type DemoCreative, type DemoDisplay } from './plan.ts';
import { credentialsFile, generatePassword, loadState, saveState, type DemoAccount, type DemoState } from './state.ts';

export interface SeedOptions {
  /** API v2's base, e.g. http://127.0.0.1:8080/v2. */
  apiUrl: string;
  dataDir: string;
  adminUsername: string;
  log: (line: string) => void;
}

/** What a run made: all zero on a second run. */
export interface Created {
  users: number;
  displays: number;
  activations: number;
  credentialRotations: number;
  creatives: number;
  bookings: number;
}

export interface SeededDisplay {
  id: string;
  name: string;
  secret: string;
}

export interface SeedResult {
  operator: DemoAccount;
  advertiser: DemoAccount;
  displays: SeededDisplay[];
  creatives: { id: string; name: string }[];
  bookings: { id: string; creative: string; displays: number }[];
  created: Created;
  /** A new device secret for a display whose stored one was refused (kept in the data folder too). */
  rotateSecret(displayId: string): Promise<string>;
}

export class DemoSetupError extends Error {
  override name = 'DemoSetupError';
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/**
 * Signup and login cost a password hash each; on a busy machine the account service may answer
 * api-v2 too late (503). Both are safe to repeat (a repeated signup answers 409, handled below),
 * so they are retried a few times, as the Retry-After says or with a growing pause.
 */
async function patiently<T>(call: () => Promise<Answer<T>>): Promise<Answer<T>> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call();
    if (answer.response.status !== 503 || attempt === 6) return answer;
    const retryAfter = Number(answer.response.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, retryAfter > 0 ? retryAfter * 1000 : 500 * 2 ** attempt));
  }
}

const logIn = (apiUrl: string, account: DemoAccount) => patiently(() => createMarqueeClient({ baseUrl: apiUrl }).POST('/auth/login', { body: account }));

/** A signed-in client that logs in again before its access token runs out (the demo may run for hours). */
interface Session {
  client: MarqueeClient;
  accessToken(): Promise<string>;
}

function session(apiUrl: string, account: DemoAccount, tokens: Schemas['Tokens']): Session {
  let current = { token: tokens.accessToken, renewAt: Date.now() + (tokens.expiresIn * 1000) / 2 };
  const accessToken = async () => {
    if (Date.now() >= current.renewAt) {
      const fresh = await unwrap(logIn(apiUrl, account));
      current = { token: fresh.accessToken, renewAt: Date.now() + (fresh.expiresIn * 1000) / 2 };
    }
    return current.token;
  };
  return { client: createMarqueeClient({ baseUrl: apiUrl, accessToken }), accessToken };
}

/** Every item of a paginated list. */
async function all<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

export async function seedDemo(opts: SeedOptions): Promise<SeedResult> {
  const { apiUrl, dataDir, log } = opts;
  const created: Created = { users: 0, displays: 0, activations: 0, credentialRotations: 0, creatives: 0, bookings: 0 };
  const state = await loadState(dataDir);
  const anonymous = createMarqueeClient({ baseUrl: apiUrl });
  const save = () => saveState(dataDir, state);

  // ------------------------------------------------------------------ users
  async function signIn(role: 'operator' | 'advertiser'): Promise<Session & { account: DemoAccount }> {
    let account = state[role];
    const isNew = !account;
    if (!account) {
      // Kept before signing up: a signup that succeeded but whose answer was lost (409 on the
      // retry) is still ours, as the login with this password then shows.
      account = state[role] = { username: DEMO_USERS[role], password: generatePassword() };
      await save();
      const signup = await patiently(() => anonymous.POST('/auth/signup', { body: { ...account!, accountType: role } }));
      if (!signup.response.ok && signup.response.status !== 409) {
        delete state[role];
        await save();
        await unwrap(Promise.resolve(signup)); // throws the problem
      }
    }
    const login = await logIn(apiUrl, account);
    if (login.response.ok && isNew) {
      created.users++;
      log(`created the ${role} ${account.username}`);
    }
    if (login.response.status === 401) {
      const file = credentialsFile(dataDir);
      if (isNew) {
        // Someone else's user of that name: keep no password that belongs to nothing.
        delete state[role];
        await save();
        throw new DemoSetupError(
          `The user ${account.username} already exists on this platform and its password is not in ${file} ` +
            '(was that file removed, or is --data-dir not the folder the demo ran with?). Restore the file, or start the platform with a fresh data folder.',
        );
      }
      throw new DemoSetupError(`The password for ${account.username} in ${file} is refused: that file and this platform's data do not belong together.`);
    }
    return { ...session(apiUrl, account, await unwrap(Promise.resolve(login))), account };
  }
  const operator = await signIn('operator');
  const advertiser = await signIn('advertiser');
  const admin = (await signInAdmin(apiUrl, dataDir, opts.adminUsername)).client;

  // ------------------------------------------------------------------ displays
  const sendsContentPolicy = await createAcceptsContentPolicy(apiUrl);
  const existingDisplays = new Map(
    (await all((cursor) => unwrap(operator.client.GET('/displays', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })))).map((d) => [d.name, d as Display]),
  );
  const displays: SeededDisplay[] = [];
  // A new display is `pending` — invisible to advertisers, refused for booking — until activated.
  for (const plan of DEMO_DISPLAYS) {
    let display = existingDisplays.get(plan.name);
    if (!display) {
      const made = await unwrap(operator.client.POST('/displays', { body: displayBody(plan, sendsContentPolicy) }));
      display = made.display;
      state.displaySecrets[display.id] = made.credential.secret;
      await save();
      created.displays++;
      log(`registered ${plan.name} (${plan.timezone})`);
    } else if (!state.displaySecrets[display.id]) {
      // The secret is shown only once; if the data folder lost it, a new one is the only way.
      state.displaySecrets[display.id] = (await unwrap(operator.client.POST('/displays/{id}/credentials', { params: { path: { id: display.id } } }))).secret;
      await save();
      created.credentialRotations++;
      log(`${plan.name}: its secret was not in the data folder, so its credential was rotated`);
    }
    if (display.status !== 'active') {
      await unwrap(admin.POST('/displays/{id}/activate', { params: { path: { id: display.id } } }));
      created.activations++;
      log(`${plan.name}: activated by ${opts.adminUsername}`);
    }
    displays.push({ id: display.id, name: plan.name, secret: state.displaySecrets[display.id]! });
  }

  // ------------------------------------------------------------------ creatives
  const existingCreatives = new Map(
    (await all((cursor) => unwrap(advertiser.client.GET('/creatives', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })))).map((c) => [c.name, c as Creative]),
  );
  const creatives: { id: string; name: string }[] = [];
  for (const plan of DEMO_CREATIVES) {
    let creative = existingCreatives.get(plan.name);
    if (!creative) {
      creative = await createPosterCreative(apiUrl, advertiser, plan);
      created.creatives++;
      log(`uploaded the creative "${plan.name}" (${creative.mediaSizeBytes} bytes, its name drawn on it)`);
    }
    creatives.push({ id: creative.id, name: plan.name });
  }

  // ------------------------------------------------------------------ bookings
  const existingBookings = await all((cursor) => unwrap(advertiser.client.GET('/bookings', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })));
  const bookings: SeedResult['bookings'] = [];
  for (const plan of DEMO_BOOKINGS) {
    const creativeId = creatives.find((c) => c.name === plan.creative)!.id;
    const displayIds = plan.displays.map((name) => displays.find((d) => d.name === name)!.id);
    let booking = findBooking(existingBookings, creativeId, displayIds);
    if (booking?.status === 'held') booking = await unwrap(advertiser.client.POST('/bookings/{id}/confirm', { params: { path: { id: booking.id } } }));
    if (!booking) {
      const now = Date.now();
      const held = await unwrap(
        advertiser.client.POST('/bookings', {
          params: { header: { 'idempotency-key': randomUUID() } },
          body: { displayIds, creativeId, startsAt: new Date(now).toISOString(), endsAt: new Date(now + BOOKING_DAYS * 86_400_000).toISOString() },
        }),
      );
      booking = await unwrap(advertiser.client.POST('/bookings/{id}/confirm', { params: { path: { id: held.id } } }));
      created.bookings++;
      log(`booked "${plan.creative}" on ${displayIds.length} displays for ${BOOKING_DAYS} days (held, then confirmed; ${(booking.priceTotal / 100).toFixed(2)} ${booking.currency})`);
    }
    bookings.push({ id: booking.id, creative: plan.creative, displays: displayIds.length });
  }

  return {
    operator: operator.account,
    advertiser: advertiser.account,
    displays,
    creatives,
    bookings,
    created,
    async rotateSecret(displayId) {
      const { secret } = await unwrap(operator.client.POST('/displays/{id}/credentials', { params: { path: { id: displayId } } }));
      state.displaySecrets[displayId] = secret;
      await save();
      return secret;
    },
  };
}

async function signInAdmin(apiUrl: string, dataDir: string, username: string): Promise<Session> {
  const file = path.join(dataDir, 'admin-password');
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).trim();
  } catch {
    throw new DemoSetupError(`No admin password at ${file}: the demo activates its displays as ${username}. Run it beside \`npm start\` (same folder), or give --data-dir.`);
  }
  const tokens = await unwrap(logIn(apiUrl, { username, password }));
  return session(apiUrl, { username, password }, tokens);
}

/**
 * CONTENT APPROVAL (issue 13) — the one place the demo's displays get `contentPolicy: 'auto'`, so
 * their creatives play without an operator's review. Sent only when the served API's create schema
 * has the field: requests are strict, and an API without it would refuse the unknown field (422).
 */
async function createAcceptsContentPolicy(apiUrl: string): Promise<boolean> {
  const doc = (await (await fetch(`${apiUrl}/openapi.json`)).json()) as { components?: { schemas?: Record<string, { properties?: Record<string, { enum?: unknown[] }> }> } };
  return doc.components?.schemas?.CreateDisplay?.properties?.contentPolicy?.enum?.includes('auto') ?? false;
}

function displayBody(plan: DemoDisplay, contentPolicyAuto: boolean): Schemas['CreateDisplay'] & { contentPolicy?: 'auto' } {
  const body = {
    name: plan.name,
    location: plan.location,
    timezone: plan.timezone,
    resolution: plan.resolution,
    tags: plan.tags,
    loop: DEMO_LOOP,
    pricePerSlotHour: plan.pricePerSlotHour,
    audienceMultiplier: plan.audienceMultiplier,
  };
  return contentPolicyAuto ? { ...body, contentPolicy: 'auto' } : body;
}

/** A booked (or still held) booking of this creative on exactly these displays that runs at least another hour. */
function findBooking(bookings: Booking[], creativeId: string, displayIds: string[]): Booking | undefined {
  const wanted = [...displayIds].sort().join();
  return bookings.find(
    (b) =>
      b.creativeId === creativeId &&
      (b.status === 'booked' || b.status === 'held') &&
      Date.parse(b.endsAt) > Date.now() + 3_600_000 &&
      b.displays.map((d) => d.displayId).sort().join() === wanted,
  );
}

/** Draws the poster, uploads it (one chunk: it is a few KiB) and makes an image creative of it. */
async function createPosterCreative(apiUrl: string, { client, accessToken }: Session, plan: DemoCreative): Promise<Creative> {
  const png = posterPng(plan.name, { width: 640, height: 360, background: plan.background, ink: plan.ink, caption: 'Marquee demo' });
  const sha256 = createHash('sha256').update(png).digest('hex');
  const upload = await unwrap(client.POST('/uploads', { body: { contentType: 'image/png', totalBytes: png.length, sha256 } }));
  // Raw bytes go with fetch (the typed client speaks JSON), to the URL the demo was given: the
  // answer's uploadUrl is built from the platform's PUBLIC_BASE_URL, which may name another host.
  const put = await fetch(`${apiUrl}/uploads/${upload.id}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${await accessToken()}`,
      'content-type': 'application/octet-stream',
      'content-range': `bytes 0-${png.length - 1}/${png.length}`,
    },
    body: png,
  });
  if (!put.ok) throw new MarqueeApiError(put.status, (await put.json().catch(() => ({ type: 'about:blank', title: put.statusText, status: put.status }))) as Problem);
  await unwrap(client.POST('/uploads/{id}/complete', { params: { path: { id: upload.id } } }));
  return unwrap(client.POST('/creatives', { body: { name: plan.name, type: 'image', mediaSha256: sha256, durationMs: CREATIVE_DURATION_MS } }));
}
