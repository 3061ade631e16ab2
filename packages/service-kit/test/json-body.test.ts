/**
 * JSON bodies are parsed once by the kit (issue 12.6): nesting beyond MAX_JSON_DEPTH and NUL
 * characters are refused as 422 naming the field, before any route's schema (or the database) sees them.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, createLogger, createMetrics, createServiceApp, jsonDepthWithin, parseJsonBody, problemFor, validationFailure, type ServiceEnv } from '../src/index.ts';

function problemOf(fn: () => unknown): { status: number; detail?: string; errors?: unknown } {
  try {
    fn();
  } catch (err) {
    const { problem } = problemFor(err);
    return { status: problem.status, detail: problem.detail, errors: problem.errors };
  }
  throw new Error('expected a refusal');
}

describe('jsonDepthWithin', () => {
  it('counts objects and arrays, not brackets inside strings or escaped quotes', () => {
    expect(jsonDepthWithin('[[[]]]', 3)).toBe(true);
    expect(jsonDepthWithin('[[[[]]]]', 3)).toBe(false);
    expect(jsonDepthWithin('{"a":{"b":{"c":1}}}', 3)).toBe(true);
    expect(jsonDepthWithin('{"a":{"b":{"c":{}}}}', 3)).toBe(false);
    expect(jsonDepthWithin(JSON.stringify({ s: '[[[[[[{{{{{' }), 1)).toBe(true);
    expect(jsonDepthWithin(JSON.stringify({ s: 'quote \\" then [[[[' }), 1)).toBe(true);
    expect(jsonDepthWithin('[1,[2],[3],[4]]', 2)).toBe(true);
  });
});

describe('parseJsonBody', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more (5 000 too) without overflowing the stack`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    for (const n of [MAX_JSON_DEPTH + 1, 5_000, 200_000]) {
      const p = problemOf(() => parseJsonBody(nested(n)));
      expect(p).toMatchObject({ status: 422, detail: `The request body is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays).` });
    }
  });

  it('names each string or field name holding U+0000, however deep, and nothing else', () => {
    const p = problemOf(() => parseJsonBody(JSON.stringify({ name: 'a\u0000', place: { address: 'ok', lines: ['x', '\u0000y'] }, ok: 'fine', args: { 'k\u0000': 1 } })));
    expect(p.status).toBe(422);
    expect(p.errors).toEqual([
      { field: 'name', message: 'must not contain the NUL character (U+0000)' },
      { field: 'place.lines.1', message: 'must not contain the NUL character (U+0000)' },
      { field: 'args', message: 'has a field name containing the NUL character (U+0000)' },
    ]);
    expect(p.detail).toBe(
      'Check the request body: name must not contain the NUL character (U+0000); place.lines.1 must not contain the NUL character (U+0000); args has a field name containing the NUL character (U+0000).',
    );
    expect(problemOf(() => parseJsonBody('"\\u0000"')).errors).toEqual([{ field: '(body)', message: 'must not contain the NUL character (U+0000)' }]);
  });

  it('lets an escaped backslash followed by "u0000" through, and other control characters too', () => {
    expect(parseJsonBody('{"path":"C:\\\\u0000"}')).toEqual({ path: 'C:\\u0000' });
    expect(parseJsonBody('{"tab":"a\\tb\\u0001"}')).toEqual({ tab: 'a\tb\u0001' });
  });

  it('refuses malformed JSON with 400, or leaves it to the route when lenient', () => {
    expect(problemOf(() => parseJsonBody('{"a":'))).toMatchObject({ status: 400, detail: 'The request body is not valid JSON.' });
    expect(parseJsonBody('{"a":', { lenient: true })).toBeUndefined();
  });
});

describe('every service app guards its JSON bodies', () => {
  function app() {
    const logger = createLogger('test', 'silent');
    const base = createServiceApp({ service: 'test', logger, metrics: createMetrics('test') }, new OpenAPIHono<ServiceEnv>({
      defaultHook: (result) => {
        if (!result.success) throw validationFailure(result.error as never, (result as { data?: unknown }).data, result.target);
      },
    }));
    const route = createRoute({
      method: 'post',
      path: '/things',
      request: { body: { content: { 'application/json': { schema: z.strictObject({ name: z.string(), args: z.record(z.string(), z.unknown()).optional() }) } } } },
      responses: { 200: { description: 'ok' } },
    });
    base.openapi(route, (c) => c.json(c.req.valid('json'), 200));
    base.post('/no-body', (c) => c.json({ ok: true }));
    return base;
  }
  const post = (path: string, body: string, type = 'application/json') => app().request(path, { method: 'POST', headers: { 'content-type': type }, body });

  it('the route validator gets the parsed body; too deep and NUL are 422 problems', async () => {
    expect(await (await post('/things', '{"name":"x","args":{"a":[1,{"b":2}]}}')).json()).toEqual({ name: 'x', args: { a: [1, { b: 2 }] } });
    const deep = await post('/things', `{"name":"x","args":{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`);
    expect(deep.status).toBe(422);
    expect(deep.headers.get('content-type')).toBe('application/problem+json');
    const nul = await post('/things', '{"name":"x\\u0000"}');
    expect(nul.status).toBe(422);
    expect(await nul.json()).toMatchObject({ errors: [{ field: 'name' }] });
    expect((await post('/things', '{"name":"x\\u0000"}', 'application/merge-patch+json; charset=utf-8')).status).toBe(422);
  });

  it('malformed JSON stays the route\'s business: 400 from its validator, ignored by a route that reads no body', async () => {
    expect((await post('/things', '{"name":')).status).toBe(400);
    expect((await post('/no-body', '{"name":')).status).toBe(200);
    expect((await post('/no-body', '')).status).toBe(200);
  });
});
