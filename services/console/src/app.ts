import type { Context, MiddlewareHandler } from 'hono';
import { createServiceApp, NotFoundError, type Logger, type ServiceMetrics } from '@marquee/service-kit';
import type { SpaBundle, SpaFile } from './spa.ts';

export interface ConsoleDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  spa: SpaBundle;
}

/** Vite names everything under /assets/ by content hash: a new build gets new names. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and the other unhashed files: always revalidated (ETag), so a deploy is seen at once. */
export const REVALIDATE = 'no-cache';

/**
 * Same-origin everything; no inline or eval'd script. Inline styles are allowed for one reason:
 * an HTML creative previewed in a sandboxed srcdoc iframe inherits this policy, and its own
 * <style> must apply for the preview to look like the screen (its scripts stay blocked twice:
 * by the sandbox and by script-src). blob: carries screenshots and local file previews.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
};

/** A last path segment with a dot names a file; anything else is a client-side route of the app. */
const looksLikeFile = (p: string) => /\.[^/]*$/.test(p);

/**
 * Serves the built single-page app: hashed assets cached forever, index.html revalidated, every
 * client route answered with index.html (the app routes in the browser), and a problem+json 404
 * for a missing file, so a stale asset reference fails loudly instead of getting HTML.
 */
export function createConsoleApp(deps: ConsoleDeps) {
  const app = createServiceApp({ service: 'console', logger: deps.logger, metrics: deps.metrics });
  app.use('*', securityHeaders);

  app.get('/assets/*', (c) => {
    const file = deps.spa.files.get(c.req.path);
    if (!file) throw new NotFoundError(`No console asset at ${c.req.path}; reload the page to get the current version.`);
    return send(c, file, IMMUTABLE);
  });

  app.get('*', (c) => {
    const path = c.req.path;
    const file = path === '/' ? deps.spa.index : deps.spa.files.get(path);
    if (file) return send(c, file, REVALIDATE);
    if (looksLikeFile(path)) throw new NotFoundError(`No file at ${path}.`);
    return send(c, deps.spa.index, REVALIDATE);
  });

  return app;
}

function send(c: Context, file: SpaFile, cacheControl: string): Response {
  const headers = { 'content-type': file.contentType, 'cache-control': cacheControl, etag: file.etag };
  const ifNoneMatch = c.req.header('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return c.body(null, 304, headers);
  }
  const withLength = { ...headers, 'content-length': String(file.body.byteLength) };
  if (c.req.method === 'HEAD') return c.body(null, 200, withLength);
  return c.body(file.body as Uint8Array<ArrayBuffer>, 200, withLength);
}
