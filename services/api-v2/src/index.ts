import type { z } from 'zod';
import type { BookingPageSchema, PatchBookingSchema } from './bookings/schemas.ts';
import type { CreateCreativeSchema, CreativeSchema } from './creatives/schemas.ts';
import type { DisplaySchema } from './displays/schemas.ts';

export { startApiV2, API_V2_MIGRATIONS, type RunningApiV2 } from './server.ts';
export { loadApiV2Config, apiV2ConfigShape, type ApiV2Config } from './config.ts';
export { publicOpenApiDocument } from './openapi-document.ts';
export { createApiV2App, type ApiV2Deps } from './app.ts';

// The public API's shapes, for services that read them (api-v1 is a facade over this API):
// defined once, with the routes that serve them.
export { BookingPageSchema, BookingSchema, CreateBookingSchema, PatchBookingSchema, type Booking, type CreateBooking } from './bookings/schemas.ts';
export { CreateCreativeSchema, CreativeSchema } from './creatives/schemas.ts';
export { DisplaySchema, PublicDisplaySchema } from './displays/schemas.ts';
export type { PublicDisplay } from '@marquee/service-kit';
export type BookingPage = z.infer<typeof BookingPageSchema>;
export type PatchBooking = z.input<typeof PatchBookingSchema>;
export type Creative = z.infer<typeof CreativeSchema>;
export type CreateCreative = z.input<typeof CreateCreativeSchema>;
export type Display = z.infer<typeof DisplaySchema>;
