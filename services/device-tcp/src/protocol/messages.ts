/** Message shapes of protocol v1 (docs/display-protocol.md §5–§6, §9). */
import { z } from 'zod';
import type { RejectedPlay } from '@marquee/service-kit';
import type { Playlist } from '../directory.ts';
import type { TypedMessage } from './framing.ts';

export type TypedMessageQueue = TypedMessage[];

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOLS = [1] as const;
/** Display → server payload limit until `welcome` (protocol §2). */
export const PRE_AUTH_MAX_FRAME_BYTES = 4096;

const id = z.string().min(1).max(128);
const version = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  displayId: id,
  secret: z.string().min(1).max(256),
  playlistVersion: version,
  client: z.object({ name: z.string().max(128), version: z.string().max(128) }).partial().optional(),
});
export type Hello = z.infer<typeof helloSchema>;

export const heartbeatSchema = z.object({ type: z.literal('heartbeat'), playlistVersion: version });
export const playlistAckSchema = z.object({ type: z.literal('playlist_ack'), version });

/**
 * A play record goes on to api-v2 as the display sent it: the protocol's record is the kit's
 * PlayRecordSchema, which api-v2 checks (a record off it is rejected `malformed`).
 */
export type { PlayRecord } from '@marquee/service-kit';

/** The batch envelope is checked strictly; single plays are checked one by one so one bad record does not sink the batch. */
export const playsSchema = z.object({
  type: z.literal('plays'),
  batchId: z.string().min(1).max(64),
  plays: z.array(z.unknown()).min(1),
});

export const commandResultSchema = z.object({
  type: z.literal('command_result'),
  commandId: id,
  ok: z.boolean(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(1000).optional(),
});
export type CommandResultMessage = z.infer<typeof commandResultSchema>;

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
}

/** The first schema issues as one line, for an error frame's `message`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export type ErrorCode =
  | 'bad_frame'
  | 'frame_too_large'
  | 'hello_required'
  | 'hello_timeout'
  | 'invalid_hello'
  | 'unsupported_protocol'
  | 'auth_failed'
  | 'display_disabled'
  | 'too_many_connections'
  | 'rate_limited'
  | 'unavailable'
  | 'replaced'
  | 'heartbeat_timeout'
  | 'invalid_message'
  | 'unsupported_message'
  | 'internal_error';

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  fatal: boolean;
  retryAfterMs?: number;
  supported?: number[];
  ref?: string;
}

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  displayId: string;
  sessionId: string;
  serverTime: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxPlaysPerBatch: number;
}

export interface PlaylistMessage {
  type: 'playlist';
  playlist: Playlist;
}

export interface PlaysAckMessage {
  type: 'plays_ack';
  batchId: string;
  accepted: string[];
  /** The kit's contract: `{ playId, code, detail }` (docs/display-protocol.md, "Plays"). */
  rejected: RejectedPlay[];
  retryAfterMs?: number;
}

export interface CommandMessage {
  type: 'command';
  commandId: string;
  kind: string;
  args: Record<string, unknown>;
  expiresAt: string;
}

export type ServerMessage =
  | WelcomeMessage
  | PlaylistMessage
  | PlaysAckMessage
  | CommandMessage
  | ErrorMessage
  | { type: 'heartbeat_ack'; serverTime: string }
  | { type: 'command_result_ack'; commandId: string; recorded: boolean; retryAfterMs?: number }
  | { type: 'reconnect'; reason: 'draining'; afterMs: number };
