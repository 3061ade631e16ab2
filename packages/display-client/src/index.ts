export * from './transport.ts';
export * from './messages.ts';
export * from './clock.ts';
export * from './backoff.ts';
export * from './plays.ts';
export * from './client.ts';
export { compileSchedule, slotAt, showingAt } from './schedule.js';
export type { Schedule, Showing, SchedulablePlaylist } from './schedule.js';
export * from './secret.ts';
