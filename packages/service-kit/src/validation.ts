import type { Context } from 'hono';
import type { z } from 'zod';
import { UnsupportedMediaTypeError, ValidationError } from './errors.ts';
import { parseJsonBody } from './json-body.ts';
import { fieldsDetail, issuesOf, validationDetail, type FieldError, type ValidationTarget } from './validation-messages.ts';

export { fieldsDetail, issuesOf, validationDetail, type FieldError, type ValidationTarget } from './validation-messages.ts';

/** The 422 for a value that failed its schema: `errors` lists each field, `detail` says it in words. */
export function validationFailure(error: z.ZodError, input: unknown, target: ValidationTarget = 'json'): ValidationError {
  return new ValidationError(validationDetail(error, input, target), { errors: issuesOf(error, input, target) });
}

/** The 422 for values a domain rule refused: each message is the rule, read after the field's name. */
export function invalidFields(errors: FieldError[], target: ValidationTarget = 'json', extra: Record<string, unknown> = {}): ValidationError {
  return new ValidationError(fieldsDetail(errors, target), { errors, ...extra });
}

export function validate<T extends z.ZodType>(schema: T, value: unknown, target: ValidationTarget = 'json'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationFailure(parsed.error, value, target);
  return parsed.data;
}

/** Reads a JSON body: 415 for another content type, 400 for malformed JSON, 422 for a schema mismatch (or see parseJsonBody). */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]+\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError('Send the body as application/json.');
  }
  return validate(schema, parseJsonBody(await c.req.text()));
}
