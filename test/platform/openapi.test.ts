/**
 * Both public OpenAPI documents validate against the official OpenAPI 3.1 schema, and their docs
 * pages render (the HTML loads the self-hosted Swagger UI, which is served).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEdgePlatform, type EdgePlatform } from '../support/edge-platform.ts';

let ep: EdgePlatform;
beforeAll(async () => {
  ep = await startEdgePlatform('openapi');
});
afterAll(async () => ep?.close());

it.each(['v1', 'v2'] as const)('/%s/openapi.json is valid OpenAPI 3.1 and its docs page renders', async (version) => {
  const base = ep[version];
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  expect(doc.openapi).toMatch(/^3\.1\./);
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)?.slice(0, 2000)).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  expect(Object.keys(doc.paths).length).toBeGreaterThan(5);

  const page = await fetch(`${base}/docs`);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const html = await page.text();
  // Every asset the page references (relative to /vN/) is served through the edge.
  const assets = [...html.matchAll(/(?:src|href)="(docs\/assets\/[^"]+)"/g)].map((m) => m[1]);
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const asset of assets) expect((await fetch(`${base}/${asset}`)).status, asset).toBe(200);
  expect(html).toContain('openapi.json');
});

it('the validator does refuse a broken document', async () => {
  const result = await new Validator().validate({ openapi: '3.1.0', info: { title: 'x' }, paths: { '/x': { get: { responses: { 200: 'nope' } } } } });
  expect(result.valid).toBe(false);
});
