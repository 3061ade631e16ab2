import { z } from 'zod';

/**
 * Validation failures in plain words. zod's default messages ("Invalid input: expected string,
 * received undefined") are rewritten from the issue's own data into the rule a person can act on
 * ("is required (a string)"); a message a schema chose itself (a refine, or `error:` on a field)
 * is kept as written. Each failure names its field; the problem's `detail` strings them together.
 */

type Issue = z.ZodError['issues'][number];

export interface FieldError {
  /** Dotted path (`location.lat`, `tags.0`), a header's name, or `(body)` for the whole body. */
  field: string;
  message: string;
}

/** Where a value was read from: @hono/zod-validator's targets, or any phrase. */
export type ValidationTarget = 'json' | 'query' | 'param' | 'header' | 'cookie' | 'form' | (string & {});

const WHERE: Record<string, { phrase: string; root: string }> = {
  json: { phrase: 'the request body', root: '(body)' },
  form: { phrase: 'the form', root: '(body)' },
  query: { phrase: 'the query string', root: '(query)' },
  param: { phrase: 'the path', root: '(path)' },
  header: { phrase: 'the request headers', root: '(headers)' },
  cookie: { phrase: 'the cookies', root: '(cookies)' },
};
const whereOf = (target: ValidationTarget) => WHERE[target] ?? { phrase: target, root: '(body)' };

/** Everything a text value is (query, path, header): its type never differs, only its form. */
const TEXTUAL = new Set(['query', 'param', 'header', 'cookie', 'form']);

const KINDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list (JSON array)',
  null: 'null',
  date: 'a date',
  nan: 'a number',
};

function kindOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return String(value);
  return KINDS[typeof value] ?? typeof value;
}

const FORMATS: Record<string, string> = {
  uuid: 'a UUID',
  guid: 'a UUID',
  datetime: 'a date and time with its offset (RFC 3339, e.g. 2027-03-01T08:00:00Z)',
  date: 'a date (YYYY-MM-DD)',
  time: 'a time of day (HH:MM:SS)',
  email: 'an email address',
  url: 'a URL',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  base64: 'base64 text',
  base64url: 'base64url text',
  jwt: 'a JWT',
};

const count = (n: number | bigint, unit: string) => `${n} ${unit}${Number(n) === 1 ? '' : 's'}`;

function sizeRule(issue: Issue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const bound = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const exact = (issue as { exact?: boolean }).exact;
  const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
  const unit = issue.origin === 'string' ? 'character' : issue.origin === 'array' || issue.origin === 'set' ? 'item' : issue.origin === 'file' ? 'byte' : undefined;
  if (unit) {
    if (exact) return `must have exactly ${count(bound, unit)}`;
    if (small && Number(bound) === 1) return unit === 'character' ? 'must not be empty' : 'must list at least one item';
    return `must have ${small ? 'at least' : 'at most'} ${count(bound, unit)}`;
  }
  if (exact) return `must be exactly ${bound}`;
  if (small) return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
  return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
}

function plainRule(issue: Issue, value: unknown, target: ValidationTarget): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = KINDS[issue.expected] ?? issue.expected;
      if (value === undefined) return `is required (${expected})`;
      if (TEXTUAL.has(target)) return `must be ${expected}`;
      return `must be ${expected}, not ${kindOfValue(value)}`;
    }
    case 'too_small':
    case 'too_big':
      return sizeRule(issue);
    case 'invalid_format': {
      const format = issue.format;
      if (format === 'regex') return `must match the pattern ${(issue as { pattern?: string }).pattern ?? ''}`.trim();
      if (format === 'starts_with') return `must start with "${(issue as { prefix?: string }).prefix}"`;
      if (format === 'ends_with') return `must end with "${(issue as { suffix?: string }).suffix}"`;
      if (format === 'includes') return `must include "${(issue as { includes?: string }).includes}"`;
      return `must be ${FORMATS[format] ?? `a valid ${format}`}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map(clip).join(', ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options) && options.length) return `must be one of: ${options.map(String).join(', ')}`;
      // A union of plain types (string | number): name them.
      const kinds = issue.errors.map((branch) => (branch.length === 1 && branch[0]!.code === 'invalid_type' && !branch[0]!.path.length ? branch[0]!.expected : undefined));
      if (kinds.length && kinds.every(Boolean)) return `must be ${[...new Set(kinds.map((k) => KINDS[k!] ?? k))].join(' or ')}`;
      return 'does not match any of the accepted forms';
    }
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has a value that is not allowed';
    default:
      return 'is not valid';
  }
}

/** A client-chosen name (an unknown field) echoed back: bounded, one line. */
function clip(name: string): string {
  const line = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

/** True if zod wrote this message itself (its locale), false if the schema chose it. */
function isZodDefault(issue: Issue, value: unknown): boolean {
  if (issue.code === 'custom') return issue.message === 'Invalid input';
  // zod's wording names the received type, computed from the value zod saw (a coerced query value
  // is NaN where the raw one is text): any "expected …" message of this shape is zod's own.
  if (issue.code === 'invalid_type') return /^Invalid input: expected \S+, received \S+$/.test(issue.message);
  const locale = z.config().localeError;
  const wrote = locale?.({ ...issue, input: value } as never);
  return (typeof wrote === 'string' ? wrote : wrote?.message) === issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** `Idempotency-Key` for a header, `location.lat` for a body field. */
function fieldName(path: readonly PropertyKey[], target: ValidationTarget): string {
  if (!path.length) return whereOf(target).root;
  if (target === 'header' && path.length === 1) return String(path[0]).replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return path.map(String).join('.');
}

interface Described extends FieldError {
  /** The message is this module's wording (a rule to put after the field's name). */
  plain: boolean;
}

function describeIssues(error: z.ZodError, input: unknown, target: ValidationTarget): Described[] {
  return error.issues.map((issue) => {
    const value = valueAt(input, issue.path);
    const field = fieldName(issue.path, target);
    if (!isZodDefault(issue, value)) return { field, message: issue.message, plain: false };
    return { field, message: plainRule(issue, value, target), plain: issue.code !== 'unrecognized_keys' };
  });
}

/**
 * The list a problem document carries as `errors`: one `{field, message}` per failure.
 * `input` (what was validated) lets a missing field be told from a mistyped one.
 */
export function issuesOf(error: z.ZodError, input?: unknown, target: ValidationTarget = 'json'): FieldError[] {
  return describeIssues(error, input, target).map(({ field, message }) => ({ field, message }));
}

const MAX_LISTED = 6;
const isSentence = (message: string) => /^[A-Z].*\.$/s.test(message);

function detailOf(described: Described[], target: ValidationTarget): string {
  if (described.length === 1 && isSentence(described[0]!.message)) return described[0]!.message;
  const root = whereOf(target).root;
  const parts = described.map(({ field, message, plain }) => {
    if (isSentence(message)) return message.slice(0, -1);
    if (field === root) return message;
    if (plain) return `${field} ${message}`;
    // "days must not repeat" on daypart.days already reads as a rule about its field.
    const last = field.slice(field.lastIndexOf('.') + 1);
    return message.startsWith(`${last} `) ? field + message.slice(last.length) : `${field}: ${message}`;
  });
  const more = parts.length > MAX_LISTED ? ` (and ${parts.length - MAX_LISTED} more, listed in errors)` : '';
  return `Check ${whereOf(target).phrase}: ${parts.slice(0, MAX_LISTED).join('; ')}${more}.`;
}

/**
 * One readable sentence for the problem's `detail`, naming each field and its rule:
 * "Check the request body: location is required (an object); currency: ISO 4217 code …".
 * A message that is a sentence of its own (capitalised, ending in a full stop) stands alone.
 */
export function validationDetail(error: z.ZodError, input?: unknown, target: ValidationTarget = 'json'): string {
  return detailOf(describeIssues(error, input, target), target);
}

/**
 * The same sentence for failures a domain rule found after the schema passed (a time in the past,
 * a cursor this API did not hand out): each message is a rule read after its field's name.
 */
export function fieldsDetail(errors: FieldError[], target: ValidationTarget = 'json'): string {
  return detailOf(errors.map((e) => ({ ...e, plain: true })), target);
}
