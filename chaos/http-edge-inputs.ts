/**
 * C1's pass through the local edge (issue 12.6), on raw keep-alive sockets: for every route of
 * api-v1 and api-v2 with a JSON body (from /openapi.json), its documented example with U+0000 put
 * into each string field and each field name in turn, and bodies nested 5 000 deep (objects and
 * arrays); then 413 after 413 on one connection, each followed by a normal request. Expect no
 * 5xx, and in particular no 502 from the edge.
 */
import { startEdge } from '../scripts/local/edge.ts';
import { KeepAliveSocket, type RawAnswer } from '../test/support/keep-alive.ts';
import { fmt, progress } from '../bench/lib/report.ts';

const TRIES_413 = 200;
const DEEP = 5_000;

interface JsonRoute {
  base: 'v1' | 'v2';
  method: string;
  path: string;
  example: unknown;
}

async function jsonRoutes(base: 'v1' | 'v2', url: string): Promise<JsonRoute[]> {
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { example?: unknown }> } }>>;
  };
  const out: JsonRoute[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const example = op.requestBody?.content?.['application/json']?.example;
      if (example !== undefined) out.push({ base, method: method.toUpperCase(), path, example });
    }
  }
  return out;
}

/** One copy of `value` per string (and field name) in it, that one string carrying a NUL. */
function withNulEach(value: unknown): unknown[] {
  if (typeof value === 'string') return [`${value.slice(0, 1)}\u0000${value.slice(1)}`];
  if (Array.isArray(value)) return value.flatMap((item, i) => withNulEach(item).map((v) => value.map((x, j) => (j === i ? v : x))));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.flatMap(([key, item], i) => [
      Object.fromEntries(entries.map(([k, x], j) => (j === i ? [`${k}\u0000`, x] : [k, x]))),
      ...withNulEach(item).map((v) => Object.fromEntries(entries.map(([k, x], j) => [k, j === i ? v : x]))),
    ]);
  }
  return [];
}

function deepBodies(example: unknown): string[] {
  const objects = `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;
  const arrays = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
  const shell = example !== null && typeof example === 'object' && !Array.isArray(example) ? example : {};
  const key = Object.keys(shell)[0] ?? 'x';
  return [objects, arrays, JSON.stringify({ ...shell, [key]: '__DEEP__' }).replace('"__DEEP__"', objects)];
}

export interface EdgeInputResults {
  requests: number;
  statusCodes: Record<string, number>;
  fiveXX: { kind: string; method: string; path: string; status: number; body: string }[];
  badGateway: number;
  /** Requests whose connection closed without an answer after the edge had kept it alive. */
  noAnswer: number;
  tries413: number;
  after413: { nextOk: number; closedByEdge: number; badGateway: number; other: string[] };
}

export async function runEdgeInputs(urls: { v1: string; v2: string }, ids: { display: string }, auth: { v1: string; v2: string }): Promise<EdgeInputResults> {
  const edge = await startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/v1', target: urls.v1 }, { prefix: '/v2', target: urls.v2 }] });
  const results: EdgeInputResults = { requests: 0, statusCodes: {}, fiveXX: [], badGateway: 0, noAnswer: 0, tries413: TRIES_413, after413: { nextOk: 0, closedByEdge: 0, badGateway: 0, other: [] } };
  let socket = await KeepAliveSocket.open(edge.url);
  const record = (kind: string, method: string, path: string, answer: RawAnswer | null) => {
    results.requests++;
    if (!answer) {
      results.noAnswer++;
      return;
    }
    results.statusCodes[answer.status] = (results.statusCodes[answer.status] ?? 0) + 1;
    if (answer.status === 502) results.badGateway++;
    if (answer.status >= 500) results.fiveXX.push({ kind, method, path, status: answer.status, body: answer.body.slice(0, 200) });
  };
  const send = async (kind: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer) => {
    if (socket.closed) socket = await KeepAliveSocket.open(edge.url);
    const answer = await socket.send(method, path, headers, body);
    record(kind, method, path, answer);
    if (answer?.headers.connection === 'close') {
      socket.close();
      socket = await KeepAliveSocket.open(edge.url);
    }
    return answer;
  };
  try {
    const routes = [...(await jsonRoutes('v2', urls.v2)), ...(await jsonRoutes('v1', urls.v1))];
    for (const [n, route] of routes.entries()) {
      progress(`chaos HTTP through the edge: NUL and 5 000-deep bodies, route ${n + 1}/${routes.length}`);
      const path = `/${route.base}${route.path.replace(/\{[^}]+\}/g, ids.display)}`;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${auth[route.base]}` };
      for (const body of withNulEach(route.example)) await send('nul', route.method, path, headers, JSON.stringify(body));
      for (const body of deepBodies(route.example)) await send('deep', route.method, path, headers, body);
    }
    // 413 then a normal request, on one keep-alive connection, alternately a little and far over the cap.
    const bodies = [Buffer.alloc(70_000, 'x'), Buffer.alloc(1_100_000, 'x')];
    for (let i = 0; i < TRIES_413; i++) {
      if (i % 20 === 0) progress(`chaos HTTP through the edge: 413 then a request on the same connection ${i}/${TRIES_413}`);
      const tooLarge = await send('413', 'POST', '/v2/auth/login', { 'content-type': 'application/json' }, bodies[i % 2]);
      if (tooLarge?.status === 502) results.after413.badGateway++;
      if (tooLarge?.status !== 413) {
        results.after413.other.push(`try ${i}: big body answered ${tooLarge?.status ?? 'nothing'}`);
        continue;
      }
      if (tooLarge.headers.connection === 'close') {
        results.after413.closedByEdge++;
        continue;
      }
      const next = await send('after-413', 'GET', '/v2/healthz', {});
      if (next?.status === 200) results.after413.nextOk++;
      else if (next?.status === 502) results.after413.badGateway++;
      else results.after413.other.push(`try ${i}: next request answered ${next?.status ?? 'nothing'}`);
    }
  } finally {
    socket.close();
    await edge.close();
  }
  progress(`chaos HTTP through the edge: ${fmt.int(results.requests)} requests, 502 ${results.badGateway}`);
  return results;
}
