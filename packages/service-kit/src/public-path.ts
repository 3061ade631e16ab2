import type { Context } from 'hono';
import { requestHeader } from './node-http.ts';

/** One to three plain path segments ("/v2", "/api/v2"): no room for a URL, a query or a dot segment. */
const PREFIX_SHAPE = /^(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,31}){1,3}$/;

/**
 * The path prefix the edge stripped before forwarding (`/v2`): Traefik's stripPrefix and the local
 * edge send it as X-Forwarded-Prefix. Anything not shaped like a prefix is ignored (answers then
 * name the path as this service saw it).
 */
export function forwardedPrefix(c: Context): string {
  const value = requestHeader(c, 'x-forwarded-prefix');
  return value && PREFIX_SHAPE.test(value) ? value : '';
}

/** The path the client asked for (`/v2/auth/signup`), for problem `instance`s and redirects. */
export function publicPath(c: Context): string {
  const prefix = forwardedPrefix(c);
  return prefix && c.req.path === '/' ? prefix : prefix + c.req.path;
}
