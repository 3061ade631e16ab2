import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import { forwardedPrefix } from './public-path.ts';

const require = createRequire(import.meta.url);
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js']);

/** The docs' icon: a small "M" marquee mark, inline so no build step or binary file is needed. */
export const DOCS_FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="6" fill="#1f2937"/>' +
  '<path d="M7 24V8h3.6l5.4 8.6L21.4 8H25v16h-3.4V13.9l-4.7 7.3h-1.8l-4.7-7.3V24z" fill="#fbbf24"/></svg>';

/**
 * A self-contained docs page: Swagger UI served from the swagger-ui-dist package (no CDN), reading
 * the OpenAPI document by a relative URL so it works both directly and behind the /v2 prefix.
 * The service's root and `docs/` redirect to it, so `/v2`, `/v2/` and `/v2/docs/` all land there;
 * redirects name the public path (the edge's X-Forwarded-Prefix), since a relative one from `/v2`
 * would leave the prefix.
 */
export function mountDocs(app: Hono<any>, opts: { title: string; specPath: string }) {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${opts.title}</title>
<link rel="icon" type="image/svg+xml" href="docs/assets/favicon.svg">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: ${JSON.stringify(opts.specPath)}, dom_id: '#swagger-ui', deepLinking: true });
</script>
</body>
</html>`;
  app.get('/docs', (c) => c.html(html));
  const toDocs = (status: 301 | 302) => (c: Context) => c.redirect(`${forwardedPrefix(c)}/docs`, status);
  app.get('/', toDocs(302));
  app.get('/docs/', toDocs(301));
  const favicon = (c: Context) => {
    c.header('content-type', 'image/svg+xml');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(DOCS_FAVICON_SVG);
  };
  app.get('/favicon.ico', favicon);
  app.get('/docs/assets/favicon.svg', favicon);
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (!ASSETS.has(file)) return c.notFound();
    const body = await readFile(path.join(dist, file));
    c.header('content-type', file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(body);
  });
}
