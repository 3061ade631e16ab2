/**
 * The docs lint for /v2/openapi.json (issue 17.3; the checks: test/support/openapi-lint.ts). A
 * route added without an operationId, summary, security or examples, or with an example its
 * schema refuses, fails here.
 */
import { createLogger, createMetrics } from '@marquee/service-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  invalidExamples,
  lintOperations,
  operationsOf,
  redoclyProblems,
  routeDefinitionsOf,
  tryItOutFailures,
  type Json,
} from '../../../test/support/openapi-lint.ts';
import { createApiV2App, type ApiV2Deps } from '../src/app.ts';

const inert = new Proxy({}, { get: () => { throw new Error('not available while describing the API'); } });
const app = createApiV2App({
  sql: inert,
  bus: inert,
  account: inert,
  verifier: inert,
  logger: createLogger('lint', 'silent'),
  metrics: createMetrics('lint'),
  publicBaseUrl: 'http://127.0.0.1:8080/v2',
  holdTtlSeconds: 900,
  maxUploadBytes: 1024 * 1024,
} as unknown as ApiV2Deps);
const routes = routeDefinitionsOf(app);

let doc: Json;
beforeAll(async () => {
  doc = (await (await app.request('/openapi.json')).json()) as Json;
});

// Each check walks the whole document (Redocly, ~100 compiled schemas): CPU-bound work that takes
// well over vitest's default 30 s when other suites keep both cores busy.
const CPU_BOUND = { timeout: 180_000 };

describe('/v2/openapi.json lint', CPU_BOUND, () => {
  it("passes Redocly's recommended ruleset", async () => {
    expect((await redoclyProblems(doc)).map((p) => p.text)).toEqual([]);
  });

  it('every operation has a unique camelCase operationId, a summary, explicit security, a 401 challenge where it needs a token, and examples', () => {
    const { problems, operations, examples } = lintOperations(doc);
    expect(problems).toEqual([]);
    expect(operations).toBeGreaterThanOrEqual(33);
    expect(examples.length).toBeGreaterThan(operations);
    console.info(`openapi lint: ${operations} operations, ${examples.length} examples`);
  });

  it('public operations say security: [] and the document defaults to the bearer token', () => {
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const open = operationsOf(doc)
      .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
      .map(({ at }) => at)
      .sort();
    expect(open).toEqual(['GET /media/{sha256}', 'POST /auth/login', 'POST /auth/logout', 'POST /auth/refresh', 'POST /auth/signup']);
  });

  it('every example validates against its schema', () => {
    const { examples } = lintOperations(doc);
    expect(invalidExamples(doc, examples)).toEqual([]);
  });

  it('what "Try it out" sends passes the schemas that validate requests (e.g. GET /displays as shipped)', () => {
    expect(tryItOutFailures(doc, routes)).toEqual([]);
  });
});

describe('the lint can fail', CPU_BOUND, () => {
  const broken = () => {
    const copy = structuredClone(doc);
    const createBooking = copy.paths['/bookings'].post;
    delete copy.paths['/displays'].get.operationId;
    copy.paths['/me'].get.operationId = createBooking.operationId;
    delete copy.paths['/auth/signup'].post.security;
    delete copy.paths['/creatives'].post.requestBody.content['application/json'].example;
    createBooking.requestBody.content['application/json'].example = { displayIds: 'one', startsAt: 'soon' };
    createBooking.responses['201'].content['application/json'].example.status = 'pencilled-in';
    // Valid JSON Schema-wise, refused by the zod refinement (near without radiusKm): the shipped bug.
    copy.paths['/displays'].get.parameters.find((p: Json) => p.name === 'near').schema.example = '52.52,13.405';
    return copy;
  };

  it('on missing metadata', () => {
    expect(lintOperations(broken()).problems.sort()).toEqual([
      'GET /displays: no operationId',
      'POST /auth/signup: no explicit security (public operations say security: [])',
      'POST /bookings: operationId "createBooking" is also used by GET /me',
      'POST /creatives: the application/json request body has no example',
    ]);
  });

  it('on examples that do not match their schema, in JSON Schema and at run time', async () => {
    const copy = broken();
    const invalid = invalidExamples(copy, lintOperations(copy).examples);
    expect(invalid.some((p) => p.startsWith('POST /bookings request application/json: example does not match'))).toBe(true);
    expect(invalid.some((p) => p.startsWith('POST /bookings 201 application/json: example does not match'))).toBe(true);
    const tryItOut = tryItOutFailures(copy, routes);
    expect(tryItOut.some((p) => p.startsWith('GET /displays: "Try it out" sends a query the server refuses'))).toBe(true);
    expect(tryItOut.some((p) => p.startsWith('POST /bookings: "Try it out" sends a body the server refuses'))).toBe(true);
    expect((await redoclyProblems(copy)).map((p) => p.ruleId)).toEqual(expect.arrayContaining(['operation-operationId', 'no-invalid-media-type-examples']));
  });
});
