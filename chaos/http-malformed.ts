/**
 * 10 000 generated malformed HTTP requests across every route of api-v1 and api-v2 (taken from
 * their own /openapi.json): bad JSON, wrong types, huge headers and bodies, path traversal, wrong
 * methods, bad ids, bad tokens. Expect zero 5xx, zero crashes, memory flat. Then a pass through the
 * local edge (http-edge-inputs.ts): NUL characters, 5 000-deep JSON and 413s on keep-alive
 * connections; expect zero 5xx and zero 502 there too.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { startPlatform, type Platform } from '../bench/lib/platform.ts';
import { sampleProc } from '../bench/lib/proc.ts';
import { fmt, progress, type Figure } from '../bench/lib/report.ts';
import { createDisplayViaApi, signUpAndLogIn } from '../bench/lib/seed.ts';
import { runEdgeInputs } from './http-edge-inputs.ts';

const TOTAL = 10_000;
// RSS after each pass; the first half warms up (JIT, heap sizing), the second half must not grow.
const PASSES = 8;

interface MalformedRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Writes one request exactly as given (no client library normalising it) and reads the status
 * line. null = the server closed the connection without answering (or 10 s passed).
 */
function rawRequest(port: number, r: MalformedRequest): Promise<{ status: number | null; head: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    let done = false;
    const finish = (timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : null, head: data.slice(0, 600), timedOut });
    };
    const timer = setTimeout(() => finish(true), 10_000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      data += d;
      if (data.length > 2_000 || /\r\n\r\n[\s\S]{1,}$/.test(data)) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', () => finish());
    socket.on('connect', () => {
      const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
      const headers: Record<string, string> = { host: '127.0.0.1', connection: 'close', ...(r.body !== undefined ? { 'content-length': String(body.length) } : {}), ...r.headers };
      const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
  });
}

interface Route {
  method: string;
  path: string;
}

async function routesOf(base: string): Promise<Route[]> {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const out: Route[] = [];
  for (const [p, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(m)) out.push({ method: m.toUpperCase(), path: p });
  // Also the service endpoints every app has.
  out.push({ method: 'GET', path: '/healthz' }, { method: 'GET', path: '/readyz' }, { method: 'GET', path: '/metrics' });
  return out;
}

const BAD_IDS = ['not-a-uuid', '..%2F..%2Fetc%2Fpasswd', '%00', "1'%20or%20'1'='1", 'x'.repeat(5_000), '00000000-0000-0000-0000-000000000000', '-1', '%E2%80%AE', '..', '%2e%2e%2f%2e%2e%2f'];
const WRONG_BODIES: (string | Buffer)[] = [
  '{"a":',
  '[]',
  'null',
  '"string"',
  '12345',
  '{"name":123,"loop":"x","location":[],"displayIds":"all","creativeId":5,"startsAt":false,"durationMs":"long","password":{},"username":[]}',
  '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
  '{"displayIds":[' + Array.from({ length: 5_000 }, () => '"00000000-0000-0000-0000-000000000000"').join(',') + ']}',
  Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), // invalid UTF-8 in a JSON string
  '{"startsAt":"2026-13-45T99:99:99Z","endsAt":"yesterday","daypart":{"from":"25:00","to":"-1"}}',
  '{"limit":1e309,"offset":-9007199254740993}',
  JSON.stringify({ deep: JSON.parse('['.repeat(2_000) + ']'.repeat(2_000)) }).slice(0, 10) + '['.repeat(5_000),
];

/** A deterministic mix: every route × every kind of wrongness, cycling until TOTAL requests. */
function generate(routes: { base: 'v1' | 'v2'; route: Route }[], tokens: { v1: string; v2: string }): (MalformedRequest & { base: 'v1' | 'v2'; kind: string })[] {
  const out: (MalformedRequest & { base: 'v1' | 'v2'; kind: string })[] = [];
  const hugeBody = 'x'.repeat(1_100_000);
  const hugeHeader = 'y'.repeat(20_000);
  let i = 0;
  while (out.length < TOTAL) {
    for (const { base, route } of routes) {
      if (out.length >= TOTAL) break;
      const auth: Record<string, string> = i % 3 === 0 ? {} : i % 3 === 1 ? { authorization: `Bearer ${tokens[base]}` } : { authorization: ['Bearer x.y.z', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.', 'Basic Zm9vOmJhcg==', `Bearer ${'a'.repeat(3_000)}`][i % 4]! };
      const path = route.path.replace(/\{[^}]+\}/g, () => BAD_IDS[i % BAD_IDS.length]!);
      const kind = i % 9;
      const json: Record<string, string> = { 'content-type': 'application/json', ...auth };
      i++;
      let req: MalformedRequest & { kind: string };
      switch (kind) {
        case 0:
          req = { kind: 'bad-json', method: route.method === 'GET' ? 'POST' : route.method, path, headers: json, body: '{"unterminated": [1, 2' };
          break;
        case 1:
          req = { kind: 'wrong-types', method: route.method, path, headers: json, body: WRONG_BODIES[i % WRONG_BODIES.length]! };
          break;
        case 2:
          req = { kind: 'huge-header', method: route.method, path, headers: { ...auth, 'x-filler': hugeHeader } };
          break;
        case 3:
          req = { kind: 'huge-body', method: route.method === 'GET' ? 'POST' : route.method, path, headers: json, body: hugeBody };
          break;
        case 4:
          req = { kind: 'path-traversal', method: route.method, path: ['/../../../etc/passwd', `${path}/../../..//etc/shadow`, '/%2e%2e/%2e%2e/etc/passwd', `/media/..%2f..%2f..%2fetc%2fpasswd`, '//\\..\\..\\windows'][i % 5]!, headers: auth };
          break;
        case 5:
          req = { kind: 'wrong-method', method: ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'][i % 6]!, path, headers: json, body: '{}' };
          break;
        case 6:
          req = { kind: 'wrong-content-type', method: route.method === 'GET' ? 'POST' : route.method, path, headers: { ...auth, 'content-type': ['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin-99'][i % 4]! }, body: 'a=1&b=%ZZ--x--' };
          break;
        case 7:
          req = { kind: 'bad-query', method: 'GET', path: `${path}?limit=-1&cursor=${encodeURIComponent(randomBytes(40).toString('base64'))}&from=notadate&to[]=x&near=999,999&tag=${'t'.repeat(500)}`, headers: auth };
          break;
        default:
          req = { kind: 'bad-length', method: route.method === 'GET' ? 'POST' : route.method, path, headers: { ...json, 'content-length': '99999999999' }, body: '{}' };
      }
      out.push({ ...req, base });
    }
  }
  return out;
}

export async function runHttpMalformed(logDir: string): Promise<Figure> {
  const started = performance.now();
  progress('chaos HTTP: starting account + api-v2 + api-v1');
  const platform: Platform = await startPlatform('chaos_http', { apiV1: true, logDir });
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const display = await createDisplayViaApi(platform.apiV2Url, operator);
    const v1Login = await fetch(`${platform.apiV1Url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: operator.username, password: 'a-long-enough-bench-passphrase' }),
    });
    const v1Token = v1Login.ok ? ((await v1Login.json()) as { token?: string }).token ?? operator.token : operator.token;
    const routes = [
      ...(await routesOf(platform.apiV2Url)).map((route) => ({ base: 'v2' as const, route })),
      ...(await routesOf(platform.apiV1Url!)).map((route) => ({ base: 'v1' as const, route })),
    ];
    const all = generate(routes, { v1: v1Token, v2: operator.token });
    const procs = [platform.procs['api-v2']!, platform.procs['api-v1']!];
    const rss = () => Object.fromEntries(procs.map((p) => [p.name, sampleProc(p.pid).rssBytes]));
    const rssBefore = rss();
    const rssAfterPass: Record<string, number>[] = [];
    const fiveXX: { base: string; kind: string; method?: string; path?: string; status: number; body: string }[] = [];
    const statusCodes: Record<string, number> = {};
    let errors = 0;
    const cut: Record<string, number> = {};
    const unanswered: Record<string, number> = {};
    const byKind: Record<string, number> = {};
    for (const r of all) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    for (let pass = 0; pass < PASSES; pass++) {
      for (const base of ['v2', 'v1'] as const) {
        const list = all.filter((r) => r.base === base);
        const slice = list.slice(Math.floor((pass * list.length) / PASSES), Math.floor(((pass + 1) * list.length) / PASSES));
        const port = Number(new URL(base === 'v2' ? platform.apiV2Url : platform.apiV1Url!).port);
        let next = 0;
        let sent = 0;
        const worker = async () => {
          while (next < slice.length) {
            const r = slice[next++]!;
            const got = await rawRequest(port, r);
            sent++;
            if (sent % 200 === 0) progress(`chaos HTTP pass ${pass + 1}/${PASSES}: ${fmt.int(sent)}/${fmt.int(slice.length)} malformed requests → api-${base}`);
            if (got.status === null) {
              if (got.timedOut) unanswered[r.kind] = (unanswered[r.kind] ?? 0) + 1;
              errors++;
              cut[r.kind] = (cut[r.kind] ?? 0) + 1;
              continue;
            }
            statusCodes[got.status] = (statusCodes[got.status] ?? 0) + 1;
            if (got.status >= 500) fiveXX.push({ base, kind: r.kind, method: r.method, path: r.path?.slice(0, 120), status: got.status, body: got.head.slice(0, 300) });
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
      }
      rssAfterPass.push(rss());
    }
    const viaEdge = await runEdgeInputs({ v1: platform.apiV1Url!, v2: platform.apiV2Url }, { display: display.id }, { v1: v1Token, v2: operator.token });
    const edge5xx = viaEdge.fiveXX.length;
    const edge502 = viaEdge.badGateway + viaEdge.after413.badGateway;
    const alive = procs.every((p) => p.alive && p.exits.length === 0);
    const health = await Promise.all([platform.apiV2Url, platform.apiV1Url!].map(async (u) => (await fetch(`${u}/healthz`)).status));
    const total5xx = Object.entries(statusCodes).filter(([c]) => c.startsWith('5')).reduce((n, [, v]) => n + v, 0);
    const growthMiB = Object.fromEntries(procs.map((p) => [p.name, (rssAfterPass[PASSES - 1]![p.name]! - rssAfterPass[PASSES / 2 - 1]![p.name]!) / 2 ** 20]));
    const flat = Object.values(growthMiB).every((g) => g <= 20);
    const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
    return {
      id: 'C1',
      measure: '10 000 malformed HTTP requests across every route of api-v1 and api-v2',
      target: 'zero 5xx, zero crashes, memory flat',
      result:
        `${fmt.int(answered)} answered + ${fmt.int(errors)} closed by the server without an answer; 5xx ${fmt.int(total5xx)}; crashes ${alive ? 0 : 'YES'}; RSS growth pass 4→8: ${Object.entries(growthMiB).map(([k, v]) => `${k} ${v.toFixed(1)} MiB`).join(', ')}; ` +
        `through the edge: ${fmt.int(viaEdge.requests)} NUL/5 000-deep/413 requests, 5xx ${edge5xx}, 502 ${edge502}, ${viaEdge.tries413} × 413 then a request on the same connection: ${viaEdge.after413.nextOk} answered 200, ${viaEdge.after413.closedByEdge} closed by the edge with Connection: close`,
      met: total5xx === 0 && alive && flat && health.every((s) => s === 200) && edge5xx === 0 && edge502 === 0 && viaEdge.noAnswer === 0 && viaEdge.after413.other.length === 0,
      details: { routes: routes.length, generated: all.length, byKind, statusCodes, closedWithoutAnswer: errors, closedWithoutAnswerByKind: cut, noAnswerWithin10sByKind: unanswered, fiveXX, rssBefore, rssAfterPass, growthMiB, healthAfter: health, viaEdge },
      method:
        `Routes from each service's /openapi.json (${routes.length} method+path pairs incl. /healthz, /readyz, /metrics); for each, 9 kinds of wrongness cycled with bad path ids, ` +
        'no token / a valid token / forged tokens; written byte for byte on raw sockets (16 at a time, one request per connection; HTTP client libraries refuse to send most of these) in 8 passes of 1 250 straight to the services (no edge). ' +
        'Then through the local edge (scripts/local/edge.ts) on one keep-alive raw socket: every JSON-bodied route\'s documented example with U+0000 in each string and each field name in turn, three 5 000-deep bodies per route, and 200 × (413 body, alternately 70 kB and 1.1 MB, then GET /v2/healthz on the same connection unless the edge said Connection: close). ' +
        '"Closed without an answer" = the server cut the connection (e.g. 431 header overflow or an absurd Content-Length), which is not a crash. Memory flat = RSS growth between the end of pass 4 and the end of pass 8 ≤ 20 MiB (passes 1–4 warm up the JIT and heap; a leak keeps growing).',
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await platform.close();
  }
}
