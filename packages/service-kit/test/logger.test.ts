import { pino } from 'pino';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createMetrics, createServiceApp, lazyChild, type ServiceEnv } from '../src/index.ts';

// The request logger is made only when a request logs: the same lines as an eager child, no child
// (and no serialised bindings) for the requests that never log.
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const parent = pino({ level, base: { service: 't' } }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let children = 0;
  // Counts children of the service's logger; pino children inherit `child` from it, hence `this`.
  const original = parent.child;
  parent.child = function (this: typeof parent, ...args: Parameters<typeof original>) {
    if (this === parent) children++;
    return original.apply(this, args);
  } as typeof original;
  return { parent, lines, children: () => children };
}

describe('lazyChild', () => {
  it('makes the child on first use, once, and logs with its bindings like an eager child', () => {
    const { parent, lines, children } = capture('info');
    const logger = lazyChild(parent, { reqId: 'r-1' });
    expect(children()).toBe(0);
    logger.info({ n: 1 }, 'first');
    logger.warn('second');
    expect(children()).toBe(1);
    expect(lines.map((l) => [l.reqId, l.service, l.msg])).toEqual([
      ['r-1', 't', 'first'],
      ['r-1', 't', 'second'],
    ]);
    // A grandchild keeps both bindings; a level set on the request's logger stays on it.
    logger.child({ step: 'x' }).info('third');
    expect(lines.at(-1)).toMatchObject({ reqId: 'r-1', step: 'x', msg: 'third' });
    logger.level = 'error';
    expect(parent.level).toBe('info');
    logger.warn('dropped');
    expect(lines.at(-1)!.msg).toBe('third');
  });

  it('a service app at warn makes no child for requests that do not log, and one for a request that does', async () => {
    const { parent, lines, children } = capture('warn');
    const app = createServiceApp({ service: 't', logger: parent, metrics: createMetrics('t') }, new Hono<ServiceEnv>());
    app.get('/quiet', (c) => c.text('ok'));
    app.get('/loud', (c) => {
      c.get('logger').warn('something odd');
      return c.text('ok');
    });
    for (let i = 0; i < 5; i++) expect((await app.request('/quiet')).status).toBe(200);
    expect(children()).toBe(0);
    const res = await app.request('/loud', { headers: { 'x-request-id': 'loud-1' } });
    expect(res.status).toBe(200);
    expect(children()).toBe(1);
    expect(lines).toEqual([expect.objectContaining({ reqId: 'loud-1', msg: 'something odd', level: 40 })]);
  });
});
