import { z } from 'zod';
import { UuidSchema } from '@marquee/display-protocol';

// The protocol's primitives are the display protocol's (ids, instants, versions): one definition.
export { DisplayKeySchema, InstantSchema, UuidSchema, VersionSchema } from '@marquee/display-protocol';

/** Path of internal endpoints about one display that api-v2 looks up by id. */
export const DisplayParamsSchema = z.object({ id: UuidSchema });
