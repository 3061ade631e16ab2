import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** JSON logs on stdout, one base field naming the service. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'refreshToken', '*.refreshToken', 'secret', '*.secret', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/**
 * `parent.child(bindings)`, made when first used. A request's logger carries its request and trace
 * ids, but at the production level (warn) most requests never log, and pino builds a child's
 * serialised bindings (through redaction) on creation: a few µs per request on the hottest reads.
 * The handler is shared and the state lives in the proxy's target, so making one allocates two
 * small objects and no closures.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new Proxy<LazyTarget>({ parent, bindings, child: undefined }, lazyLoggerHandler) as unknown as Logger;
}

interface LazyTarget {
  parent: Logger;
  bindings: Record<string, unknown>;
  child: Logger | undefined;
}

const made = (t: LazyTarget) => (t.child ??= t.parent.child(t.bindings));

const lazyLoggerHandler: ProxyHandler<LazyTarget> = {
  get(t, prop) {
    const child = made(t);
    const value = Reflect.get(child, prop, child);
    return typeof value === 'function' ? value.bind(child) : value;
  },
  set: (t, prop, value) => Reflect.set(made(t), prop, value),
  has: (t, prop) => Reflect.has(made(t), prop),
};
