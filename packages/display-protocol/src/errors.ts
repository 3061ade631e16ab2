/** Codes of `error` frames (docs/display-protocol.md §9), and how schema issues become a message. */

export const ERROR_CODES = [
  'bad_frame',
  'frame_too_large',
  'hello_required',
  'hello_timeout',
  'invalid_hello',
  'unsupported_protocol',
  'auth_failed',
  'display_disabled',
  'too_many_connections',
  'rate_limited',
  'unavailable',
  'replaced',
  'heartbeat_timeout',
  'invalid_message',
  'unsupported_message',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
}

/** The first schema issues as one line, for an error frame's `message` or a log. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
