import { z } from '@hono/zod-openapi';
import { PublicDisplaySchema } from '@marquee/service-kit';
import { PageQuery } from '../pagination.ts';

/** IANA zone names only; Intl throws a RangeError for anything it doesn't know. */
export function isValidTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const TAG = /^[a-z0-9][a-z0-9_.:-]{0,39}$/;

const LocationSchema = z
  .strictObject({
    address: z.string().trim().max(300).default(''),
    lat: z.number().min(-90).max(90),
    lng: z.number().min(-180).max(180),
  })
  .openapi('DisplayLocation');

const ResolutionSchema = z
  .strictObject({ widthPx: z.number().int().min(1).max(16384), heightPx: z.number().int().min(1).max(16384) })
  .openapi('DisplayResolution');

/** The loop is slotCount slots of slotMs each; slotMs must be a whole number of ms, at least 1 s. */
const LoopInputSchema = z
  .strictObject({
    lengthMs: z.number().int().min(1000).max(3_600_000).openapi({ example: 60_000 }),
    slotCount: z.number().int().min(1).max(360).openapi({ example: 6 }),
  })
  .superRefine((loop, ctx) => {
    if (loop.lengthMs % loop.slotCount !== 0) {
      ctx.addIssue({ code: 'custom', path: ['slotCount'], message: `slotCount must divide lengthMs (${loop.lengthMs} ms / ${loop.slotCount} is not a whole number of ms)` });
    } else if (loop.lengthMs / loop.slotCount < 1000) {
      ctx.addIssue({ code: 'custom', path: ['slotCount'], message: 'each slot (lengthMs / slotCount) must last at least 1000 ms' });
    }
  })
  .openapi('DisplayLoopInput');

const fields = {
  name: z.string().trim().min(1).max(120),
  location: LocationSchema,
  timezone: z
    .string()
    .min(1)
    .max(64)
    .refine(isValidTimeZone, { message: 'not an IANA time zone name (e.g. Europe/Berlin)' })
    .openapi({ example: 'Europe/Berlin' }),
  resolution: ResolutionSchema,
  orientation: z.enum(['landscape', 'portrait']),
  tags: z
    .array(z.string().trim().toLowerCase().regex(TAG, 'tags are 1-40 of a-z 0-9 _ . : - (starting with a letter or digit)'))
    .max(20)
    .transform((tags) => [...new Set(tags)]),
  loop: LoopInputSchema,
  pricePerSlotHour: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ description: 'Price of one loop slot for one hour, in minor currency units (cents)' }),
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code in capitals, e.g. EUR').openapi({ example: 'EUR' }),
  audienceMultiplier: z.number().min(0).max(1_000_000).openapi({ description: 'Estimated impressions per play' }),
  contentPolicy: z.enum(['review', 'auto']).openapi({
    description:
      "`review`: a booking's creative (and every swap) plays only once you approved it (GET /approvals?state=pending); `auto`: it plays as booked",
  }),
  houseCreativeId: z.uuid().nullable().openapi({
    description: 'Plays in every slot no booking shows anything in: one of your own creatives (operators may create creatives), or one you approved; null for none',
  }),
  htmlScripts: z.boolean().openapi({
    description: 'Whether HTML creatives may run scripts on this display (still sandboxed, no network but their media). Off by default; see the display protocol, "Rendering text and HTML".',
  }),
};

export const CreateDisplaySchema = z
  .strictObject({
    name: fields.name,
    location: fields.location,
    timezone: fields.timezone,
    resolution: fields.resolution,
    /** Defaults from the resolution (taller than wide = portrait). */
    orientation: fields.orientation.optional(),
    tags: fields.tags.default([]),
    loop: fields.loop,
    pricePerSlotHour: fields.pricePerSlotHour,
    currency: fields.currency.default('EUR'),
    audienceMultiplier: fields.audienceMultiplier.default(1),
    contentPolicy: fields.contentPolicy.default('review'),
    htmlScripts: fields.htmlScripts.default(false),
  })
  .openapi('CreateDisplay');
export type CreateDisplayInput = z.infer<typeof CreateDisplaySchema>;

export const UpdateDisplaySchema = z
  .strictObject({
    name: fields.name.optional(),
    location: fields.location.optional(),
    timezone: fields.timezone.optional(),
    resolution: fields.resolution.optional(),
    orientation: fields.orientation.optional(),
    tags: fields.tags.optional(),
    loop: fields.loop.optional(),
    pricePerSlotHour: fields.pricePerSlotHour.optional(),
    currency: fields.currency.optional(),
    audienceMultiplier: fields.audienceMultiplier.optional(),
    contentPolicy: fields.contentPolicy.optional(),
    houseCreativeId: fields.houseCreativeId.optional(),
    htmlScripts: fields.htmlScripts.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'send at least one field to change' })
  .openapi('UpdateDisplay');
export type UpdateDisplayInput = z.infer<typeof UpdateDisplaySchema>;

/** What anyone signed in may see (the advertisers' catalogue); the kit's, since api-v1 reads it too. */
export { PublicDisplaySchema };

/** The owner's (and admins') view: adds ownership, presence and credential metadata. */
export const DisplaySchema = PublicDisplaySchema.extend({
  operatorId: z.string().uuid(),
  updatedAt: z.string(),
  credentialRotatedAt: z.string(),
  htmlScripts: fields.htmlScripts,
  presence: z.object({
    online: z.boolean(),
    lastSeenAt: z.string().nullable(),
    playlistVersion: z.number().int().openapi({ description: 'Current version of what the display should play' }),
    appliedVersion: z.number().int().nullable().openapi({ description: 'Version the device last reported as applied' }),
  }),
  contentPolicy: fields.contentPolicy,
  houseCreativeId: fields.houseCreativeId,
}).openapi('Display');

export const CredentialSchema = z
  .object({
    displayId: z.string().uuid(),
    secret: z.string().openapi({ description: '256-bit random secret, base64url. Shown only once; store it on the device.' }),
    rotatedAt: z.string(),
  })
  .openapi('DeviceCredential');

export const CreatedDisplaySchema = z.object({ display: DisplaySchema, credential: CredentialSchema }).openapi('CreatedDisplay');

const csvOrRepeated = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean),
);

const latLng = z
  .string()
  .regex(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/, 'near is "lat,lng"')
  .transform((s) => s.split(',').map(Number) as [number, number])
  .refine(([lat, lng]) => Math.abs(lat) <= 90 && Math.abs(lng) <= 180, 'near is out of range (lat ±90, lng ±180)');

const bbox = z
  .string()
  .regex(/^(-?\d+(\.\d+)?,){3}-?\d+(\.\d+)?$/, 'bbox is "minLng,minLat,maxLng,maxLat"')
  .transform((s) => s.split(',').map(Number) as [number, number, number, number])
  .refine(([w, s, e, n]) => Math.abs(w) <= 180 && Math.abs(e) <= 180 && Math.abs(s) <= 90 && Math.abs(n) <= 90 && s <= n, 'bbox is out of range or south > north');

const MAX_AVAILABILITY_RANGE_MS = 400 * 24 * 3600 * 1000;

export const ListDisplaysQuery = PageQuery.extend({
  tag: csvOrRepeated.optional().openapi({ description: 'Repeatable or comma separated; every tag must match', type: 'string' }),
  // No examples on these optional filters: Swagger UI's "Try it out" fills every example in, and a
  // filled-in filter (or half a pair) would turn "list the catalogue" into an empty page or a 422.
  near: latLng.optional().openapi({ description: '"lat,lng", e.g. `52.52,13.405`; only with radiusKm', type: 'string' }),
  radiusKm: z.coerce.number().gt(0).max(20_000).optional().openapi({ description: 'Kilometres around `near`, e.g. `25`; only with near' }),
  bbox: bbox.optional().openapi({ description: '"minLng,minLat,maxLng,maxLat" (minLng > maxLng crosses the antimeridian)', type: 'string' }),
  availableFrom: z.iso.datetime({ offset: true }).optional(),
  availableTo: z.iso.datetime({ offset: true }).optional(),
}).superRefine((q, ctx) => {
  if ((q.near === undefined) !== (q.radiusKm === undefined)) ctx.addIssue({ code: 'custom', path: ['radiusKm'], message: 'near and radiusKm go together' });
  if ((q.availableFrom === undefined) !== (q.availableTo === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['availableTo'], message: 'availableFrom and availableTo go together' });
  } else if (q.availableFrom && q.availableTo) {
    const span = Date.parse(q.availableTo) - Date.parse(q.availableFrom);
    if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['availableTo'], message: 'availableTo must be after availableFrom' });
    else if (span > MAX_AVAILABILITY_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['availableTo'], message: 'availability range is at most 400 days' });
  }
});
export type ListDisplaysFilters = z.infer<typeof ListDisplaysQuery>;
