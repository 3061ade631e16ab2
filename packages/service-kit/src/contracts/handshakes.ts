import { z } from 'zod';
import { DisplayCommandSchema } from './commands.ts';
import { UuidSchema, VersionSchema } from './common.ts';
import { PlaylistSchema } from './playlists.ts';

/** What a display presents. Lengths api-v2 never issues are refused by device-tcp before sending. */
export const DisplayCredentialSchema = z.strictObject({ displayId: z.string().max(64), secret: z.string().max(256) }).meta({ id: 'DisplayCredential' });
export type DisplayCredential = z.infer<typeof DisplayCredentialSchema>;

/** One display's hello as device-tcp passes it on: its credential and the version it shows. */
export const HandshakeHelloSchema = DisplayCredentialSchema.extend({ playlistVersion: VersionSchema }).meta({ id: 'HandshakeHello' });
export type HandshakeHello = z.infer<typeof HandshakeHelloSchema>;

/** POST /internal/displays/handshakes: one call per batch of hellos (a reconnect storm is thousands a second). */
export const HandshakesRequestSchema = z.strictObject({ hellos: z.array(HandshakeHelloSchema).min(1).max(1_000) });
export type HandshakesRequest = z.infer<typeof HandshakesRequestSchema>;

export const AUTH_FAILURE_CODES = ['unknown_display', 'bad_secret', 'disabled'] as const;
export type AuthFailureCode = (typeof AUTH_FAILURE_CODES)[number];

const CredentialAcceptedSchema = z.object({
  ok: z.literal(true),
  display: z.object({ id: UuidSchema, status: z.string(), playlistVersion: VersionSchema }),
});
const CredentialRefusedSchema = z.object({ ok: z.literal(false), code: z.enum(AUTH_FAILURE_CODES) });

/** The verdict on a credential; also the answer of the legacy POST /internal/displays/authenticate. */
export const CredentialCheckSchema = z.discriminatedUnion('ok', [CredentialAcceptedSchema, CredentialRefusedSchema]).meta({ id: 'CredentialCheck' });
export type CredentialCheck = z.infer<typeof CredentialCheckSchema>;

/**
 * Everything a hello needs in one answer: the verdict and, when accepted, the commands waiting for
 * the display (now marked delivered) and its playlist if newer than the one it shows.
 */
export const HandshakeAnswerSchema = z
  .discriminatedUnion('ok', [
    CredentialAcceptedSchema.extend({ commands: z.array(DisplayCommandSchema), playlist: PlaylistSchema.optional() }),
    CredentialRefusedSchema,
  ])
  .meta({ id: 'HandshakeAnswer' });
export type HandshakeAnswer = z.infer<typeof HandshakeAnswerSchema>;

/** Answers in hello order. */
export const HandshakesAnswerSchema = z.object({ answers: z.array(HandshakeAnswerSchema) });
export type HandshakesAnswer = z.infer<typeof HandshakesAnswerSchema>;
