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
