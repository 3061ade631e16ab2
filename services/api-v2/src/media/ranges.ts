import { MalformedRequestError } from '@marquee/service-kit';

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses an upload chunk's `Content-Range: bytes <start>-<end>/<total>` (all three required: a
 * chunk always knows where it goes and what the whole is).
 */
export function parseContentRange(header: string | undefined): ByteRange & { total: number } {
  if (!header) throw new MalformedRequestError('Content-Range header required, e.g. "bytes 0-1048575/5000000".');
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(header.trim());
  if (!m) throw new MalformedRequestError(`Content-Range must look like "bytes <start>-<end>/<total>", got "${header.slice(0, 100)}".`);
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start) throw new MalformedRequestError('Content-Range end is before its start.');
  return { start, end, total };
}

export type RangeRequest = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * Interprets a download's `Range` header against a resource of `size` bytes (RFC 9110 §14).
 * One range only; a multi-range or syntactically invalid header is ignored (full response), as
 * the RFC allows.
 */
export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return { kind: 'partial', range: { start, end } };
}

/** Does an `If-None-Match` list name this strong ETag (weak comparison, as RFC 9110 says for GET)? */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
