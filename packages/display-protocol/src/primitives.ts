import { z } from 'zod';

/** Ids api-v2 issues and stores (displays, bookings, creatives, plays, commands): UUIDs. */
export const UuidSchema = z.uuid();

/** An id of the protocol unless it says otherwise: a non-empty string of at most 128 characters (§2). */
export const ProtocolIdSchema = z.string().min(1).max(128);

/**
 * A display id as device-tcp keys its sessions: what the display presented in its hello, which
 * api-v2 accepted. Only matched against live sessions, never stored, so any protocol id is safe
 * here; the fields api-v2 stores take UUIDs.
 */
export const DisplayKeySchema = ProtocolIdSchema;

/** RFC 3339 instant with an explicit offset ("Z" or "+02:00"). */
export const InstantSchema = z.iso.datetime({ offset: true });

/** A playlist version: 0 = none yet, then +1 per change. */
export const VersionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
