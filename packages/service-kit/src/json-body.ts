import type { Context, MiddlewareHandler } from 'hono';
import { MalformedRequestError, ValidationError } from './errors.ts';
import { fieldsDetail, type FieldError } from './validation-messages.ts';

/**
 * JSON request bodies are read once, here, for every route of every service, so two kinds of
 * input no schema can be trusted to catch are refused before any route sees them:
 * - nesting deeper than MAX_JSON_DEPTH: code that walks a value recursively (JSON.stringify in a
 *   refine, the database driver serialising jsonb) overflows the stack on a few thousand levels;
 * - the NUL character (U+0000) in any string or field name: PostgreSQL refuses it in text and
 *   jsonb, so it would surface as a 500 from wherever the string is finally stored.
 * Both are 422 problems naming the field, like any other validation failure.
 */
export const MAX_JSON_DEPTH = 64;

/** The most field errors one body reports (the detail lists at most a few anyway). */
const MAX_REPORTED = 20;

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
const NUL_KEY_MESSAGE = 'has a field name containing the NUL character (U+0000)';

/**
 * True if the JSON text nests objects/arrays at most `max` deep. A scan of the text, not of the
 * parsed value: it needs no stack and runs before JSON.parse builds anything.
 */
export function jsonDepthWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return false;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return true;
}

/** Every string value or field name holding U+0000, by dotted path (depth already bounded). */
function nulFields(value: unknown, path: string, out: FieldError[]): void {
  if (out.length >= MAX_REPORTED) return;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ field: path || '(body)', message: NUL_MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulFields(item, path ? `${path}.${i}` : String(i), out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) out.push({ field: path || '(body)', message: NUL_KEY_MESSAGE });
      nulFields(item, path ? `${path}.${key}` : key, out);
    }
  }
}

function tooDeep(): ValidationError {
  const message = `is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays)`;
  return new ValidationError(`The request body ${message}.`, { errors: [{ field: '(body)', message }] });
}

/**
 * Parses JSON request text: 400 if it is not JSON, 422 if it nests too deep or carries a NUL.
 * `lenient` leaves malformed JSON to the route (undefined) instead of refusing it.
 */
export function parseJsonBody(text: string, opts: { lenient?: boolean } = {}): unknown {
  if (!jsonDepthWithin(text, MAX_JSON_DEPTH)) throw tooDeep();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (opts.lenient) return undefined;
    throw new MalformedRequestError('The request body is not valid JSON.');
  }
  // A NUL can only arrive escaped (a raw control character is not valid JSON): skip the walk
  // for the bodies that cannot hold one.
  if (/\\u0000/.test(text)) {
    const errors: FieldError[] = [];
    nulFields(body, '', errors);
    if (errors.length) throw new ValidationError(fieldsDetail(errors), { errors });
  }
  return body;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

export function isJsonRequest(c: Context): boolean {
  const type = c.req.header('content-type');
  return !!type && JSON_MEDIA_TYPE.test(type.split(';', 1)[0]!.trim());
}

/**
 * Middleware: reads a JSON body once through parseJsonBody and hands the parsed value to
 * whatever reads it next (`c.req.json()`, which the routes' zod validators call). Malformed JSON
 * is left to the route (its validator answers 400; a route that reads no body ignores it).
 */
export const guardJsonBodies: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || !isJsonRequest(c)) return next();
  const text = await c.req.text();
  if (text.trim() === '') return next();
  const body = parseJsonBody(text, { lenient: true });
  if (body !== undefined) c.req.bodyCache.json = Promise.resolve(body);
  return next();
};
