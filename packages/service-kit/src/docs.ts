import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Hono } from 'hono';

const require = createRequire(import.meta.url);
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js']);

/**
 * A self-contained docs page: Swagger UI served from the swagger-ui-dist package (no CDN), reading
 * the OpenAPI document by a relative URL so it works both directly and behind the /v2 prefix.
 */
export function mountDocs(app: Hono<any>, opts: { title: string; specPath: string }) {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${opts.title}</title>
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
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (!ASSETS.has(file)) return c.notFound();
    const body = await readFile(path.join(dist, file));
    c.header('content-type', file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(body);
  });
}
