import { randomUUID } from 'node:crypto';
import type { Booking, BookingPage, CreateBooking, CreateCreative, Creative, PatchBooking, PublicDisplay } from '@marquee/api-v2';
import type { InternalClient, InternalRequest, RequestContext } from '@marquee/service-kit';
import { v1ErrorFrom } from '../errors.ts';
import { toCreativeInput, toV1Content, type V1Content } from './content.ts';
import type { V1Order } from './schemas.ts';

const STATUS_IN_V1: Record<Booking['status'], V1Order['status']> = {
  held: 'pending',
  booked: 'confirmed',
  cancelled: 'cancelled',
  expired: 'expired',
};

/** GET /v1/orders reads at most this many of the caller's most recent bookings. */
export const MAX_LISTED_ORDERS = 1_000;
const PAGE = 200;
const CREATIVE_FETCH_CONCURRENCY = 8;

/** The caller: its token (sent on as Authorization) and its request, whose ids travel along. */
export type Auth = { authorization: string; context?: RequestContext };

/**
 * v1 orders as calls to api-v2's public API with the caller's own token, so v2 alone decides who
 * may see and change what (another user's booking is 404 there, hence here).
 */
export function createV2Orders(apiV2: InternalClient) {
  /** `B`: the request body's type, from api-v2's schemas (api-v2 validates it; so does the compiler here). */
  async function call<T, B = never>(auth: Auth, req: Omit<InternalRequest, 'body'> & { body?: B }, notFound = 'not found'): Promise<T> {
    const res = await apiV2.request<T>({ ...req, headers: { ...req.headers, authorization: auth.authorization }, context: auth.context });
    if (res.status >= 400) throw v1ErrorFrom(res, `api-v2 refused (${res.status})`, { 404: notFound });
    return res.body;
  }

  const getBooking = (auth: Auth, id: string) => call<Booking>(auth, { method: 'GET', path: `/bookings/${id}` }, 'no such order');

  /** A creative, or undefined if the caller may not read it (then the content shows as "other"). */
  async function findCreative(auth: Auth, id: string): Promise<Creative | undefined> {
    const res = await apiV2.request<Creative>({ method: 'GET', path: `/creatives/${id}`, headers: { authorization: auth.authorization }, context: auth.context });
    if (res.status === 200) return res.body;
    if (res.status === 404 || res.status === 403) return undefined;
    throw v1ErrorFrom(res, `api-v2 refused (${res.status})`);
  }

  const createCreative = (auth: Auth, content: V1Content, durationMs: number) =>
    call<Creative, CreateCreative>(auth, { method: 'POST', path: '/creatives', body: toCreativeInput(content, clampDuration(durationMs)) });

  const toOrder = (b: Booking, creative: Creative | undefined): V1Order => ({
    orderid: b.id,
    deviceid: b.displays[0]?.displayId ?? '',
    start: b.startsAt,
    end: b.endsAt,
    status: STATUS_IN_V1[b.status],
    price: b.priceTotal,
    content: toV1Content(creative),
  });

  return {
    /** Books one slot on one display and confirms it at once: v1 has no holds. */
    async create(auth: Auth, o: { deviceid: string; start: string; end: string; content: V1Content }): Promise<V1Order> {
      const display = await call<PublicDisplay>(auth, { method: 'GET', path: `/displays/${o.deviceid}` }, 'no such device');
      // Playlists cut a creative at its slot anyway; give it exactly the slot's length.
      const creative = await createCreative(auth, o.content, display.loop.slotMs);
      const hold = await call<Booking, CreateBooking>(auth, {
        method: 'POST',
        path: '/bookings',
        body: { displayIds: [o.deviceid], creativeId: creative.id, startsAt: o.start, endsAt: o.end },
        // A fresh key per v1 request makes this POST safe to retry.
        headers: { 'idempotency-key': randomUUID() },
        idempotent: true,
      });
      try {
        const booked = await call<Booking>(auth, { method: 'POST', path: `/bookings/${hold.id}/confirm`, idempotent: true });
        return toOrder(booked, creative);
      } catch (err) {
        // Don't leave inventory blocked until the hold lapses; if this fails too, the TTL frees it.
        await apiV2.request({ method: 'POST', path: `/bookings/${hold.id}/cancel`, headers: { authorization: auth.authorization }, idempotent: true, context: auth.context }).catch(() => {});
        throw err;
      }
    },

    async list(auth: Auth): Promise<V1Order[]> {
      const bookings: Booking[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: BookingPage = await call(auth, { method: 'GET', path: `/bookings?${query}` });
        bookings.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && bookings.length < MAX_LISTED_ORDERS);
      const creatives = await fetchAll([...new Set(bookings.map((b) => b.creativeId))], (id) => findCreative(auth, id));
      return bookings.slice(0, MAX_LISTED_ORDERS).map((b) => toOrder(b, creatives.get(b.creativeId)));
    },

    async get(auth: Auth, id: string): Promise<V1Order> {
      const booking = await getBooking(auth, id);
      return toOrder(booking, await findCreative(auth, booking.creativeId));
    },

    /** New content = a new creative swapped in; a booked order's displays get a new playlist version. */
    async replaceContent(auth: Auth, id: string, content: V1Content): Promise<V1Order> {
      const booking = await getBooking(auth, id);
      const previous = await findCreative(auth, booking.creativeId);
      const creative = await createCreative(auth, content, previous?.durationMs ?? 10_000);
      const updated = await call<Booking, PatchBooking>(
        auth,
        { method: 'PATCH', path: `/bookings/${id}`, body: { creativeId: creative.id }, idempotent: true },
        'no such order',
      );
      return toOrder(updated, creative);
    },

    async cancel(auth: Auth, id: string): Promise<V1Order> {
      const cancelled = await call<Booking>(auth, { method: 'POST', path: `/bookings/${id}/cancel`, idempotent: true }, 'no such order');
      return toOrder(cancelled, await findCreative(auth, cancelled.creativeId));
    },
  };
}

function clampDuration(ms: number) {
  return Math.min(3_600_000, Math.max(1_000, Math.round(ms)));
}

async function fetchAll<T>(ids: string[], fetchOne: (id: string) => Promise<T>): Promise<Map<string, T>> {
  const results = new Map<string, T>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      results.set(id, await fetchOne(id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATIVE_FETCH_CONCURRENCY, ids.length) }, worker));
  return results;
}
