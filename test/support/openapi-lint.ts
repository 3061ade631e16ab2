/**
 * The docs lint for a public OpenAPI document (issue 17.3), shared by api-v2's and api-v1's lint
 * tests: Redocly's recommended ruleset, plus what a client generator and a person in Swagger UI
 * need from every operation — a unique camelCase operationId, a summary, explicit security, a
 * documented 401 challenge where a token is needed, and examples: the JSON request body's and
 * each JSON success answer's. Every example must validate against its JSON Schema (ajv, draft
 * 2020-12 as OpenAPI 3.1 uses), and what "Try it out" sends (the examples and defaults it fills
 * in) must pass the zod schemas that validate requests at run time.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { z } from 'zod';

export type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface Operation {
  at: string;
  method: string;
  path: string;
  op: Json;
}

export function operationsOf(doc: Json): Operation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ at: `${method.toUpperCase()} ${path}`, method, path, op: item[method] as Json })),
  );
}

const pointer = (...parts: string[]) => '#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export interface ExampleCheck {
  at: string;
  /** JSON pointer of the schema in the document. */
  schema: string;
  value: unknown;
}

/** Every example in an operation, with the pointer of the schema it illustrates. */
function examplesOf({ at, method, path, op }: Operation): ExampleCheck[] {
  const found: ExampleCheck[] = [];
  const base = ['paths', path, method];
  const fromMedia = (where: string, media: Json, parts: string[]) => {
    if ('example' in media) found.push({ at: `${at} ${where}`, schema: pointer(...parts, 'schema'), value: media.example });
    for (const [name, ex] of Object.entries((media.examples ?? {}) as Json)) found.push({ at: `${at} ${where} (${name})`, schema: pointer(...parts, 'schema'), value: ex.value });
  };
  (op.parameters ?? []).forEach((param: Json, i: number) => {
    const parts = [...base, 'parameters', String(i)];
    if ('example' in param) found.push({ at: `${at} ${param.in} ${param.name}`, schema: pointer(...parts, 'schema'), value: param.example });
    if (param.schema && 'example' in param.schema) found.push({ at: `${at} ${param.in} ${param.name}`, schema: pointer(...parts, 'schema'), value: param.schema.example });
  });
  for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Json)) fromMedia(`request ${type}`, media, [...base, 'requestBody', 'content', type]);
  for (const [status, response] of Object.entries((op.responses ?? {}) as Json)) {
    for (const [type, media] of Object.entries((response.content ?? {}) as Json)) fromMedia(`${status} ${type}`, media, [...base, 'responses', status, 'content', type]);
  }
  return found;
}

const isJson = (type: string) => /^application\/(.+\+)?json$/.test(type);
const hasExample = (media: Json | undefined) => !!media && ('example' in media || Object.keys(media.examples ?? {}).length > 0);

/** What a generator and a person need from each operation; returns the problems found. */
export function lintOperations(doc: Json): { problems: string[]; operations: number; examples: ExampleCheck[] } {
  const problems: string[] = [];
  const operations = operationsOf(doc);
  const seenIds = new Map<string, string>();
  const schemes = Object.keys(doc.components?.securitySchemes ?? {});
  const examples: ExampleCheck[] = [];
  for (const operation of operations) {
    const { at, op } = operation;
    const id = op.operationId as string | undefined;
    if (!id) problems.push(`${at}: no operationId`);
    else if (!/^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(id)) problems.push(`${at}: operationId "${id}" is not a camelCase verb phrase (e.g. listDisplays)`);
    else if (seenIds.has(id)) problems.push(`${at}: operationId "${id}" is also used by ${seenIds.get(id)}`);
    if (id) seenIds.set(id, at);
    if (!op.summary?.trim()) problems.push(`${at}: no summary`);
    if (!Array.isArray(op.security)) problems.push(`${at}: no explicit security (public operations say security: [])`);
    for (const requirement of op.security ?? []) for (const scheme of Object.keys(requirement)) if (!schemes.includes(scheme)) problems.push(`${at}: unknown security scheme ${scheme}`);
    if ((op.security ?? []).length > 0) {
      const unauthorized = op.responses?.['401'];
      if (!unauthorized) problems.push(`${at}: needs a token but documents no 401`);
      else if (!unauthorized.headers?.['WWW-Authenticate']) problems.push(`${at}: its 401 does not document WWW-Authenticate`);
    }
    for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Json)) {
      if (isJson(type) && !hasExample(media)) problems.push(`${at}: the ${type} request body has no example`);
    }
    for (const [status, response] of Object.entries((op.responses ?? {}) as Json)) {
      if (!/^2/.test(status)) continue;
      for (const [type, media] of Object.entries((response.content ?? {}) as Json)) {
        if (isJson(type) && !hasExample(media)) problems.push(`${at}: the ${status} ${type} answer has no example`);
      }
    }
    const own = examplesOf(operation);
    if (own.length === 0) problems.push(`${at}: no example at all`);
    examples.push(...own);
  }
  return { problems, operations: operations.length, examples };
}

/** The value at a JSON pointer (`#/a/b~1c`) in the document. */
function resolvePointer(doc: Json, pointer: string): unknown {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/** Validates each example against its schema in the document (refs resolved in the document). */
export function invalidExamples(doc: Json, examples: ExampleCheck[]): string[] {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, formats: { binary: true } }));
  ajv.addSchema({ ...doc, $id: 'urn:marquee:openapi' });
  // One compiled validator per distinct schema: most examples illustrate the same few (every
  // problem response is one $ref), and compiling is what costs (~0.1 s each on a busy machine).
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  return examples.flatMap(({ at, schema, value }) => {
    const key = JSON.stringify(resolvePointer(doc, schema));
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile({ $ref: `urn:marquee:openapi${schema}` })));
    return validate(value) ? [] : [`${at}: example does not match its schema: ${ajv.errorsText(validate.errors)}`];
  });
}

export interface RouteDefinition {
  method: string;
  path: string;
  request?: { query?: z.ZodType; params?: z.ZodType; headers?: z.ZodType; body?: { content: Record<string, { schema: unknown }> } };
}
/** The route definitions (zod schemas included) an OpenAPIHono app registered. */
export function routeDefinitionsOf(app: { openAPIRegistry: { definitions: unknown[] } }): RouteDefinition[] {
  return (app.openAPIRegistry.definitions as { type: string; route?: RouteDefinition }[]).filter((d) => d.type === 'route').map((d) => d.route!);
}

/** The value Swagger UI fills a parameter with on "Try it out": its example, else its default. */
function filledIn(param: Json): unknown {
  if ('example' in param) return param.example;
  if (param.schema && 'example' in param.schema) return param.schema.example;
  if (param.schema && 'default' in param.schema) return param.schema.default;
  return undefined;
}

/** Sends nothing: checks that what "Try it out" would send passes the request's zod schemas. */
export function tryItOutFailures(doc: Json, routes: RouteDefinition[]): string[] {
  const failures: string[] = [];
  for (const { at, method, path, op } of operationsOf(doc)) {
    const route = routes.find((r) => r.method === method && r.path === path);
    if (!route) {
      failures.push(`${at}: no route definition found`);
      continue;
    }
    const values: Record<string, Record<string, string>> = { query: {}, path: {}, header: {} };
    const unfilled = { path: false, header: false };
    for (const param of (op.parameters ?? []) as Json[]) {
      const value = filledIn(param);
      if (value !== undefined) values[param.in]![param.in === 'header' ? String(param.name).toLowerCase() : param.name] = String(value);
      else if (param.required && (param.in === 'path' || param.in === 'header')) unfilled[param.in as 'path' | 'header'] = true;
    }
    const check = (what: string, schema: z.ZodType | undefined, value: unknown) => {
      const parsed = schema?.safeParse(value);
      if (parsed && !parsed.success) failures.push(`${at}: "Try it out" sends ${what} the server refuses: ${JSON.stringify(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`))}`);
    };
    check('a query', route.request?.query, values.query);
    // A required path parameter without an example (an id) is for the person to type in.
    if (!unfilled.path) check('path parameters', route.request?.params, values.path);
    if (unfilled.header) failures.push(`${at}: a required header has no example, so "Try it out" cannot send it`);
    else check('headers', route.request?.headers, values.header);
    const json = op.requestBody?.content?.['application/json'];
    if (json && 'example' in json) check('a body', route.request?.body?.content['application/json']?.schema as z.ZodType, json.example);
  }
  return failures;
}

/**
 * Redocly's recommended ruleset (Redocly CLI's lint engine). info-license is off: the API is not
 * published under a licence, and an invented one would mislead.
 */
export async function redoclyProblems(doc: Json): Promise<{ ruleId: string; text: string }[]> {
  const config = await createConfig({ extends: ['recommended'], rules: { 'info-license': 'off' } } as never);
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/openapi.json', config });
  return problems.map((p) => ({ ruleId: p.ruleId, text: `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}` }));
}
