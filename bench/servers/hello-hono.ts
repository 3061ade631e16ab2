/** H1/H2 reference: Hono on @hono/node-server (the same adapter the services use), hello world. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello World!'));
app.get('/healthz', (c) => c.text('ok'));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) }, () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
