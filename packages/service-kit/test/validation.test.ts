/**
 * Validation failures in plain words (issue 17): each names its field and the rule, zod's own
 * wording never reaches a client, and a message a schema chose itself is kept as written.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createMetrics, createServiceApp, createLogger, invalidFields, issuesOf, readJson, validate, validationDetail, ValidationError, type ServiceEnv } from '../src/index.ts';

const Body = z.strictObject({
  name: z.string().trim().min(1).max(12),
  size: z.number().int().min(1).max(10),
  ratio: z.number().gt(0).optional(),
  kind: z.enum(['image', 'video']),
  id: z.uuid().optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  tags: z.array(z.string().regex(/^[a-z]+$/)).max(2).optional(),
  place: z.strictObject({ lat: z.number(), lng: z.number() }).optional(),
  zone: z.string().refine((v) => v.includes('/'), 'not an IANA time zone name').optional(),
  days: z.array(z.string()).refine((d) => new Set(d).size === d.length, 'days must not repeat').optional(),
});

function failure(schema: z.ZodType, value: unknown, target?: string) {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected the value to fail');
  return { errors: issuesOf(parsed.error, value, target), detail: validationDetail(parsed.error, value, target) };
}
const valid = { name: 'poster', size: 3, kind: 'image' };

describe('plain validation messages', () => {
  it.each([
    ['a missing field', { size: 3, kind: 'image' }, 'name', 'is required (a string)'],
    ['a wrong type', { ...valid, size: '3' }, 'size', 'must be a number, not a string'],
    ['a fraction for a whole number', { ...valid, size: 2.5 }, 'size', 'must be a whole number, not 2.5'],
    ['null', { ...valid, name: null }, 'name', 'must be a string, not null'],
    ['an empty string', { ...valid, name: '  ' }, 'name', 'must not be empty'],
    ['a long string', { ...valid, name: 'x'.repeat(13) }, 'name', 'must have at most 12 characters'],
    ['a number too small', { ...valid, size: 0 }, 'size', 'must be at least 1'],
    ['a number too large', { ...valid, size: 11 }, 'size', 'must be at most 10'],
    ['an exclusive bound', { ...valid, ratio: 0 }, 'ratio', 'must be greater than 0'],
    ['an enum', { ...valid, kind: 'gif' }, 'kind', 'must be one of: image, video'],
    ['a UUID', { ...valid, id: 'nope' }, 'id', 'must be a UUID'],
    ['a date-time', { ...valid, at: '2027-03-01' }, 'at', 'must be a date and time with its offset (RFC 3339, e.g. 2027-03-01T08:00:00Z)'],
    ['an array item', { ...valid, tags: ['ok', 'NO'] }, 'tags.1', 'must match the pattern /^[a-z]+$/'],
    ['a long array', { ...valid, tags: ['a', 'b', 'c'] }, 'tags', 'must have at most 2 items'],
    ['a nested field', { ...valid, place: { lat: 1 } }, 'place.lng', 'is required (a number)'],
    ['an unknown field', { ...valid, admin: true }, '(body)', 'unknown field: admin'],
    ['an unknown nested field', { ...valid, place: { lat: 1, lng: 2, alt: 3 } }, 'place', 'unknown field: alt'],
    ["a schema's own message", { ...valid, zone: 'Berlin' }, 'zone', 'not an IANA time zone name'],
  ])('%s', (_what, value, field, message) => {
    const { errors } = failure(Body, value);
    expect(errors).toEqual([{ field, message }]);
    for (const e of errors) expect(e.message).not.toMatch(/Invalid input|expected \w+, received|Too (small|big)|Unrecognized/);
  });

  it('names the choices of a union', () => {
    const Content = z.strictObject({
      content: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('text'), text: z.string() }), z.strictObject({ type: z.literal('image'), url: z.url() })]),
      size: z.union([z.string(), z.number()]).optional(),
    });
    expect(failure(Content, { content: { type: 'video' }, size: true }).errors).toEqual([
      { field: 'content.type', message: 'must be one of: text, image' },
      { field: 'size', message: 'must be a string or a number' },
    ]);
    expect(failure(Content, { content: { type: 'image', url: 'nope' } }).errors).toEqual([{ field: 'content.url', message: 'must be a URL' }]);
  });

  it('says in one sentence what to fix, naming each field, without zod wording', () => {
    const { detail } = failure(Body, { size: 'big', kind: 'gif', place: 'here', admin: 1, days: ['mon', 'mon'], zone: 'x' });
    expect(detail).toBe(
      'Check the request body: name is required (a string); size must be a number, not a string; kind must be one of: image, video; ' +
        'place must be an object, not a string; zone: not an IANA time zone name; days must not repeat (and 1 more, listed in errors).',
    );
    expect(failure(Body, { ...valid, place: { lat: 1, lng: 2, alt: 3 } }).detail).toBe('Check the request body: place: unknown field: alt.');
    expect(failure(Body, { ...valid, admin: true }).detail).toBe('Check the request body: unknown field: admin.');
  });

  it('names headers as they are written and query values by their rule, not their text type', () => {
    const Headers = z.object({ 'idempotency-key': z.string().max(5), 'x-count': z.coerce.number().int() });
    const { errors, detail } = failure(Headers, { 'idempotency-key': 'toolong', 'x-count': 'many' }, 'header');
    expect(errors).toEqual([
      { field: 'Idempotency-Key', message: 'must have at most 5 characters' },
      { field: 'X-Count', message: 'must be a number' },
    ]);
    expect(detail).toBe('Check the request headers: Idempotency-Key must have at most 5 characters; X-Count must be a number.');
    const Query = z.object({ radiusKm: z.coerce.number().gt(0) });
    expect(failure(Query, { radiusKm: 'far' }, 'query').detail).toBe('Check the query string: radiusKm must be a number.');
  });

  it('lets a schema give a whole sentence (zod error customisation), which then stands alone', () => {
    const sentence = 'Send an X-Key header so a retry is recognised.';
    const Headers = z.object({ 'x-key': z.string({ error: (issue) => (issue.input === undefined ? sentence : undefined) }).min(1) });
    expect(failure(Headers, {}, 'header')).toEqual({ errors: [{ field: 'X-Key', message: sentence }], detail: sentence });
    // The customisation only answers for a missing header; other rules keep the plain wording.
    expect(failure(Headers, { 'x-key': 7 }, 'header').errors).toEqual([{ field: 'X-Key', message: 'must be a string' }]);
  });

  it('validate() and invalidFields() throw a 422 ValidationError with errors and the sentence', () => {
    try {
      validate(Body, { ...valid, size: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toBe('Check the request body: size must be at least 1.');
      expect((err as ValidationError).extra.errors).toEqual([{ field: 'size', message: 'must be at least 1' }]);
    }
    const domain = invalidFields([{ field: 'endsAt', message: 'must be after startsAt' }]);
    expect(domain.message).toBe('Check the request body: endsAt must be after startsAt.');
    expect(validate(Body, valid)).toEqual(valid);
  });

  it('a JSON body read by readJson answers 422 problem+json in these words', async () => {
    const app = createServiceApp({ service: 't', logger: createLogger('t', 'silent'), metrics: createMetrics('t') }, new Hono<ServiceEnv>());
    app.post('/things', async (c) => c.json(await readJson(c, Body), 201));
    const res = await app.request('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 3, kind: 'image' }) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as { detail: string; errors: unknown };
    expect(problem.detail).toBe('Check the request body: name is required (a string).');
    expect(problem.errors).toEqual([{ field: 'name', message: 'is required (a string)' }]);
  });
});
