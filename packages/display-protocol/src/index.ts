export * from './version.ts';
export * from './framing.ts';
export * from './errors.ts';
export * from './primitives.ts';
export * from './playlist.ts';
export * from './plays.ts';
export * from './display-messages.ts';
export * from './server-messages.ts';
