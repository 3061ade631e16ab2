/**
 * The docs lint for /v1/openapi.json, the same checks as v2's (test/support/openapi-lint.ts):
 * Redocly's recommended rules, operationIds, summaries, explicit security, 401 challenges and
 * examples that match their schemas and pass request validation.
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
import { createApiV1App, type ApiV1Deps } from '../src/app.ts';

const inert = new Proxy({}, { get: () => { throw new Error('not available while describing the API'); } });
const app = createApiV1App({
  account: inert,
  apiV2: inert,
  apiV2Internal: inert,
  logger: createLogger('lint', 'silent'),
  metrics: createMetrics('lint'),
} as unknown as ApiV1Deps);

let doc: Json;
beforeAll(async () => {
  doc = (await (await app.request('/openapi.json')).json()) as Json;
});

describe('/v1/openapi.json lint', () => {
  it("passes Redocly's recommended ruleset", async () => {
    expect((await redoclyProblems(doc)).map((p) => p.text)).toEqual([]);
  });

  it('every operation has an operationId, a summary, explicit security, 401 challenges and examples that validate', () => {
    const { problems, operations, examples } = lintOperations(doc);
    expect(problems).toEqual([]);
    expect(operations).toBe(8);
    expect(invalidExamples(doc, examples)).toEqual([]);
    expect(tryItOutFailures(doc, routeDefinitionsOf(app))).toEqual([]);
    console.info(`v1 openapi lint: ${operations} operations, ${examples.length} examples`);
  });

  it('signup, login and the device list are public', () => {
    const open = operationsOf(doc)
      .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
      .map(({ at }) => at)
      .sort();
    expect(open).toEqual(['GET /devices', 'POST /login', 'POST /signup']);
  });
});
