/**
 * The little a local-platform building block needs from a logger. Both `console` and a pino
 * logger satisfy it, so the launcher can pass whichever it uses.
 */
export interface LocalLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const noop = () => {};

/** A logger that drops everything: the default when a caller passes none. */
export const silentLogger: LocalLogger = { debug: noop, info: noop, warn: noop, error: noop };
