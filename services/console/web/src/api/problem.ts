/** An RFC 9457 problem from the API, as thrown by the console's data layer. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
  conflicts?: unknown[];
  received?: number;
  [member: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `The server answered ${status}.`);
    this.name = 'ApiError';
  }
}

/** The request never got an answer (offline, server down, connection dropped). */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('Cannot reach Marquee. Check your connection and try again.', { cause });
    this.name = 'NetworkError';
  }
}

/** Reads a response body as a problem (problem+json or any JSON), never throwing. */
export async function problemOf(res: Response): Promise<Problem> {
  try {
    const body = (await res.clone().json()) as unknown;
    if (body && typeof body === 'object') return body as Problem;
  } catch {
    // not JSON: fall through
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}` };
}

/** What to tell a person about any error: the API's own `detail` when there is one. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError || err instanceof NetworkError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
