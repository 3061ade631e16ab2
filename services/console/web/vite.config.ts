import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * `npm run build -w @marquee/console` writes the app to services/console/public, which the console
 * service serves. `npx vite services/console/web` is a dev server that forwards /v1 and /v2 to a
 * running `npm start`.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: path.resolve(import.meta.dirname, '../public'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The service sends a strict CSP: no inline script, so no module-preload polyfill inlined either.
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: { '/v2': 'http://127.0.0.1:8080', '/v1': 'http://127.0.0.1:8080' },
  },
});
