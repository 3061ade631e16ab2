/**
 * Rows the bookings tests need from other areas (displays, creatives), inserted with SQL so
 * these tests do not depend on those routes, plus a few helpers for booking requests.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { api, type Target } from '../../../test/support/http.ts';
import type { Session } from '../../../test/support/platform.ts';

export type TestSql = postgres.Sql;

export const openSql = (url: string) => postgres(url, { max: 4, onnotice: () => {} });

export interface DisplayOptions {
  slotCount?: number;
  loopLengthMs?: number;
  timezone?: string;
  pricePerSlotHour?: number;
  currency?: string;
  status?: 'pending' | 'active' | 'disabled';
}

/** An active display (by SQL) taking content as booked (`auto`): these suites expect a confirmed booking to play at once. */
export async function seedDisplay(sql: TestSql, operatorId: string, o: DisplayOptions = {}): Promise<string> {
  const slotCount = o.slotCount ?? 6;
  const [row] = await sql<{ id: string }[]>`
    insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms,
                          slot_count, price_per_slot_hour, currency, status, content_policy, credential_hash)
    values (${operatorId}, ${'screen-' + randomBytes(3).toString('hex')}, 52.52, 13.4, ${o.timezone ?? 'UTC'}, 1920, 1080, 'landscape',
            ${o.loopLengthMs ?? Math.max(60_000, slotCount * 1000)}, ${slotCount}, ${o.pricePerSlotHour ?? 250}, ${o.currency ?? 'EUR'},
            ${o.status ?? 'active'}, 'auto', ${randomBytes(32)})
    returning id`;
  return row!.id;
}

export async function seedCreative(sql: TestSql, ownerId: string, durationMs = 10_000): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into creatives (owner_id, name, type, body, duration_ms)
    values (${ownerId}, 'spring sale', 'text', 'Spring sale!', ${durationMs}) returning id`;
  return row!.id;
}

/** The start of the current hour when the suite loaded: one fixed base, so repeated calls agree. */
const HOUR_BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000;

/** Whole hours after the suite's base hour (h ≥ 2 stays in the future for the suite's run). */
export function hoursFromNow(h: number): string {
  return new Date(HOUR_BASE + h * 3_600_000).toISOString();
}

export const key = () => randomUUID();

/** POST /bookings with a fresh (or the given) Idempotency-Key. */
export function book(base: Target, s: Session, body: unknown, idempotencyKey: string = key()) {
  return api(base, 'POST', '/bookings', body, { ...s.auth, 'idempotency-key': idempotencyKey });
}
