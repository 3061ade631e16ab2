/**
 * What api-v2's front door decides alone, on the app: bad input is refused before the account
 * service is called (none runs here — a call would answer 503), and the docs are served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';

let h: ApiV2TestApp;
beforeAll(async () => {
  h = await startApiV2TestApp('v2frontdoor');
});
afterAll(async () => h?.close());

describe('auth front door', () => {
  it('refuses bad input before calling anyone: malformed JSON, wrong types, unknown fields, too large, no token', async () => {
    const malformed = await api(h.v2, 'POST', '/auth/login', '{"username":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    const wrongTypes = await api(h.v2, 'POST', '/auth/login', { username: 1, password: true });
    expect(wrongTypes.status).toBe(422);
    const unknown = await api(h.v2, 'POST', '/auth/signup', { username: 'abc-def', password: 'x-long-pass', accountType: 'operator', admin: true });
    expect(unknown.status).toBe(422);
    const huge = await api(h.v2, 'POST', '/auth/login', { username: 'a', password: 'b'.repeat(200_000) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toBe('application/problem+json');
    const noToken = await api(h.v2, 'GET', '/me');
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toBe('application/problem+json');
    // The control: well-formed input does go to the account service, which is not there.
    expect((await api(h.v2, 'POST', '/auth/login', { username: 'someone', password: 'whatever-pass' })).status).toBe(503);
  });
});

describe('docs', () => {
  it('serves an OpenAPI 3.1 document and a docs page with its assets', async () => {
    const doc = await api(h.v2, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/auth/signup', '/auth/login', '/me']));
    const page = await request(h.v2, '/docs');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const asset = await request(h.v2, '/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
