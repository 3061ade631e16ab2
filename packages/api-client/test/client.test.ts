/**
 * The typed client against a real api-v2 (and account service) over sockets: the journey of the
 * README — sign up, log in, register and activate a display, create a creative, book and confirm,
 * read the play report — and how errors arrive (problem documents, 401 challenges).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../test/support/platform.ts';
import { uniqueName } from '../../../test/support/infra.ts';
import { createMarqueeClient, MarqueeApiError, unwrap, type Booking, type MarqueeClient } from '../src/index.ts';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform('apiclient');
});
afterAll(async () => p?.close());

const password = 'a-long-enough-passphrase';

async function signedIn(accountType: 'advertiser' | 'operator'): Promise<{ client: MarqueeClient; userId: string }> {
  const anonymous = createMarqueeClient({ baseUrl: p.apiV2.url });
  const username = uniqueName(`${accountType.slice(0, 3)}-`);
  const user = await unwrap(anonymous.POST('/auth/signup', { body: { username, password, accountType } }));
  expect(user).toMatchObject({ username, role: accountType });
  const tokens = await unwrap(anonymous.POST('/auth/login', { body: { username, password } }));
  expect(tokens.tokenType).toBe('Bearer');
  // A function is asked for the token on every request (where a refresh would go).
  return { client: createMarqueeClient({ baseUrl: `${p.apiV2.url}/`, accessToken: () => tokens.accessToken }), userId: user.id };
}

describe('@marquee/api-client against api-v2', () => {
  it('walks the journey: display, creative, booking, report, with typed answers', async () => {
    const operator = await signedIn('operator');
    const advertiser = await signedIn('advertiser');

    const { display, credential } = await unwrap(
      operator.client.POST('/displays', {
        body: {
          name: 'Client test screen',
          location: { lat: 48.1372, lng: 11.5756 },
          timezone: 'Europe/Berlin',
          resolution: { widthPx: 1080, heightPx: 1920 },
          loop: { lengthMs: 60_000, slotCount: 6 },
          pricePerSlotHour: 400,
        },
      }),
    );
    expect(display).toMatchObject({ status: 'pending', orientation: 'portrait', operatorId: operator.userId });
    expect(credential.secret.length).toBeGreaterThan(20);
    const active = await unwrap(operator.client.POST('/displays/{id}/activate', { params: { path: { id: display.id } } }));
    expect(active.status).toBe('active');

    const catalogue = await unwrap(advertiser.client.GET('/displays', { params: { query: { limit: 200 } } }));
    expect(catalogue.items.map((d) => d.id)).toContain(display.id);

    const creative = await unwrap(advertiser.client.POST('/creatives', { body: { name: 'Client test', type: 'text', body: 'Hello', durationMs: 5_000 } }));
    expect(creative).toMatchObject({ type: 'text', ownerId: advertiser.userId });

    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    const endsAt = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const idempotencyKey = randomUUID();
    const held: Booking = await unwrap(
      advertiser.client.POST('/bookings', {
        params: { header: { 'idempotency-key': idempotencyKey } },
        body: { displayIds: [display.id], creativeId: creative.id, startsAt, endsAt },
      }),
    );
    expect(held).toMatchObject({ status: 'held', priceTotal: 400 * 24, currency: 'EUR' });
    // The same key and body is the same booking (200), as the docs say.
    const replay = await advertiser.client.POST('/bookings', {
      params: { header: { 'idempotency-key': idempotencyKey } },
      body: { displayIds: [display.id], creativeId: creative.id, startsAt, endsAt },
    });
    expect([replay.response.status, replay.data?.id]).toEqual([200, held.id]);

    const booked = await unwrap(advertiser.client.POST('/bookings/{id}/confirm', { params: { path: { id: held.id } } }));
    expect(booked.status).toBe('booked');
    const report = await unwrap(
      advertiser.client.GET('/bookings/{id}/plays', { params: { path: { id: held.id }, query: { from: startsAt, to: endsAt, bucket: 'day' } } }),
    );
    expect(report).toMatchObject({ bookingId: held.id, bucket: 'day', totals: { plays: 0, impressions: 0 } });
  });

  it('hands back problem documents: errors[] on 422, the Bearer challenge on 401', async () => {
    const advertiser = await signedIn('advertiser');
    const past = await advertiser.client.POST('/bookings', {
      params: { header: { 'idempotency-key': randomUUID() } },
      body: { displayIds: [randomUUID()], creativeId: randomUUID(), startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-01-02T00:00:00Z' },
    });
    expect(past.response.status).toBe(422);
    expect(past.error).toMatchObject({ status: 422, errors: [{ field: 'startsAt', message: 'must not be more than 300 seconds in the past' }] });

    const anonymous = createMarqueeClient({ baseUrl: p.apiV2.url });
    const me = await anonymous.GET('/me');
    expect(me.response.status).toBe(401);
    expect(me.response.headers.get('www-authenticate')).toBe('Bearer');

    const missing = unwrap(advertiser.client.GET('/bookings/{id}', { params: { path: { id: randomUUID() } } }));
    await expect(missing).rejects.toBeInstanceOf(MarqueeApiError);
    await expect(missing).rejects.toMatchObject({ status: 404, message: 'No such booking.', problem: { instance: expect.stringMatching(/^\/bookings\//) } });
  });
});
