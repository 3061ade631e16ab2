/**
 * POST /internal/displays/authenticate is throttled per display: a run of wrong secrets is not
 * answered past the limit (429), whatever is tried next, and other displays are not affected.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { api, createDisplay } from '../../../test/support/platform.ts';
import { DEFAULT_CREDENTIAL_THROTTLE } from '../src/displays/credential-throttle.ts';

let h: ApiV2TestApp;
beforeAll(async () => {
  h = await startApiV2TestApp('display_auth_throttle');
});
afterAll(async () => {
  await h?.close();
});

const authenticate = (displayId: string, secret: string) => api(h.internal, 'POST', '/internal/displays/authenticate', { displayId, secret });

it('answers at most the limit of wrong secrets in a row for one display, then 429 (the right secret too) until the window lapses', async () => {
  const operator = h.user('operator');
  const target = await createDisplay(h.v2, operator.auth, {}, { activate: true });
  const other = await createDisplay(h.v2, operator.auth, {}, { activate: true });

  // A right secret clears the count: wrong, right, then a full run of wrong ones is answered.
  expect((await authenticate(target.id, 'wrong')).body).toEqual({ ok: false, code: 'bad_secret' });
  expect((await authenticate(target.id, target.secret)).body).toMatchObject({ ok: true });

  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await authenticate(target.id, `guess-${i}`)).status);
  const answered = statuses.filter((s) => s === 200).length;
  console.log(`30 wrong secrets in a row: ${answered} answered, ${statuses.length - answered} refused with 429`);
  expect(answered).toBe(DEFAULT_CREDENTIAL_THROTTLE.maxFailures);
  expect(statuses.slice(answered).every((s) => s === 429)).toBe(true);

  const refused = await authenticate(target.id, target.secret);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

  // Another display is checked as usual.
  expect((await authenticate(other.id, other.secret)).body).toMatchObject({ ok: true });
});
