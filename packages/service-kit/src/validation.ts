import type { Context } from 'hono';
import type { z } from 'zod';
import { MalformedRequestError, UnsupportedMediaTypeError, ValidationError } from './errors.ts';

/** Turns zod issues into a stable, readable list for the problem document. */
export function issuesOf(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : '(body)',
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

export function validate<T extends z.ZodType>(schema: T, value: unknown, what = 'request body'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = issuesOf(parsed.error);
    throw new ValidationError(`Invalid ${what}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { errors });
  }
  return parsed.data;
}

/** Reads a JSON body: 415 for another content type, 400 for malformed JSON, 422 for a schema mismatch. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]+\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError('Send the body as application/json.');
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new MalformedRequestError('The request body is not valid JSON.');
  }
  return validate(schema, body);
}
