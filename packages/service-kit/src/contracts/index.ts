/**
 * Every payload that crosses a service boundary or the bus, as one zod schema each; producer and
 * consumer both use it (types from z.infer, validation on receipt). Public API shapes live with
 * api-v2 (exported from @marquee/api-v2); the display protocol's frames, and the playlist and play
 * records inside them, are @marquee/display-protocol's (re-exported here where services use them).
 */
export * from './common.ts';
export * from './credentials.ts';
export * from './playlists.ts';
export * from './commands.ts';
export * from './handshakes.ts';
export * from './presence.ts';
export * from './plays.ts';
export * from './catalogue.ts';
export * from './live-events.ts';
export * from './bus-topics.ts';
export * from './service-access.ts';
