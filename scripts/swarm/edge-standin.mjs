// Test-only stand-in for Traefik in the Swarm test (the Traefik image cannot be pulled here).
// It plays the part the stack gives Traefik, with the same observable behaviour the tests rely on:
//  - HTTP :8080  `Path(/vN) || PathPrefix(/vN/)` → service, prefix stripped, X-Forwarded-*;
//                request bodies buffered up to 1 MiB (413 beyond, like the buffering middleware);
//                each request goes to a task IP from a fresh DNS answer (endpoint_mode dnsrr, like
//                Traefik's lbswarm=false), retried on another task on connect errors (retry.attempts=3).
//  - TCP :7000   each connection to a device-tcp task, opened with a PROXY protocol v2 header.
//  - GET /ping   its own health.
// No dependencies: runs on the bare Node image. Config: ROUTES="/v1=api-v1:3000,/v2=api-v2:3000",
// DEVICES="device-tcp:7000". A route "/=svc:port" is the catch-all (the console): it takes what no
// other route matches and forwards the path unchanged, like the stack's lowest-priority PathPrefix(`/`).
import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';

const routes = (process.env.ROUTES ?? '/v1=api-v1:3000,/v2=api-v2:3000').split(',').map((pair) => {
  const [prefix, target] = pair.split('=');
  const [host, port] = target.split(':');
  return { prefix, host, port: Number(port) };
});
const [deviceHost, devicePort] = (process.env.DEVICES ?? 'device-tcp:7000').split(':');
const MAX_BODY = 1024 * 1024;
const ATTEMPTS = 3;
// One rotation per route kind, over the addresses in a stable order: Docker's DNS answers dnsrr
// names in random order, so rotating over its raw answer (or sharing one counter between HTTP and
// devices) could put every display on one replica. Traefik's round robin is deterministic too.
const rotation = new Map();

async function taskAddresses(host) {
  try {
    const ips = await dns.resolve4(host);
    return ips.sort();
  } catch {
    return [];
  }
}

/** Task IPs in round-robin order starting at a rotating offset. */
async function candidates(host) {
  const ips = await taskAddresses(host);
  const turn = rotation.get(host) ?? 0;
  rotation.set(host, turn + 1);
  const start = turn % Math.max(ips.length, 1);
  return [...ips.slice(start), ...ips.slice(0, start)];
}

function problem(res, status, title) {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status }));
}

function forwardOnce(ip, port, req, path, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers.connection;
    headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    if (req.routePrefix) headers['x-forwarded-prefix'] = req.routePrefix;
    else delete headers['x-forwarded-prefix'];
    headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
    const upstream = http.request({ host: ip, port, method: req.method, path, headers, timeout: 30_000 }, resolve);
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', reject);
    upstream.end(body);
  });
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/ping') return res.end('OK');
  const url = req.url ?? '/';
  const pathOnly = url.split('?')[0];
  const route =
    routes.find((r) => r.prefix !== '/' && (pathOnly === r.prefix || pathOnly.startsWith(`${r.prefix}/`))) ?? routes.find((r) => r.prefix === '/');
  if (!route) return problem(res, 404, 'Not Found');
  req.routePrefix = route.prefix === '/' ? '' : route.prefix;
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) return problem(res, 413, 'Request Entity Too Large');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const stripped = url.slice(req.routePrefix.length) || '/';
  const path = stripped.startsWith('/') ? stripped : `/${stripped}`;
  const ips = await candidates(route.host);
  let lastError;
  for (const ip of ips.slice(0, ATTEMPTS)) {
    try {
      const upstream = await forwardOnce(ip, route.port, req, path, body);
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
      return;
    } catch (err) {
      lastError = err; // connection refused/reset before a response: next task
    }
  }
  console.error(JSON.stringify({ msg: 'no upstream answered', route: route.prefix, tasks: ips.length, error: String(lastError) }));
  problem(res, ips.length === 0 ? 503 : 502, ips.length === 0 ? 'Service Unavailable' : 'Bad Gateway');
});
server.keepAliveTimeout = 65_000;
server.listen(8080);

/** PROXY protocol v2 header (PROXY command, TCP over IPv4 or IPv6). */
function proxyV2Header(socket) {
  const strip = (a) => (a ?? '').replace(/^::ffff:/, '');
  const src = strip(socket.remoteAddress);
  const dst = strip(socket.localAddress);
  const v4 = net.isIPv4(src) && net.isIPv4(dst);
  const addr = (ip) => (v4 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip));
  const body = Buffer.concat([addr(src), addr(dst), u16(socket.remotePort ?? 0), u16(socket.localPort ?? 0)]);
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  return Buffer.concat([signature, Buffer.from([0x21, v4 ? 0x11 : 0x21]), u16(body.length), body]);
}
function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function ipv6Bytes(ip) {
  const full = net.isIPv4(ip) ? `::ffff:${ip}` : ip;
  const [head, tail = ''] = full.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => {
    if (g.includes('.')) out.set(Buffer.from(g.split('.').map(Number)), 12);
    else out.writeUInt16BE(parseInt(g, 16) || 0, i * 2);
  });
  return out;
}

const devices = net.createServer(async (client) => {
  client.pause();
  client.on('error', () => {});
  const ips = await candidates(deviceHost);
  for (const ip of ips.slice(0, ATTEMPTS)) {
    const ok = await new Promise((resolve) => {
      const upstream = net.connect({ host: ip, port: Number(devicePort), timeout: 5_000 });
      upstream.once('connect', () => {
        upstream.setTimeout(0);
        upstream.write(proxyV2Header(client));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        resolve(true);
      });
      upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
      upstream.once('error', () => resolve(false));
    });
    if (ok) return;
  }
  client.destroy();
});
devices.listen(7000);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    devices.close();
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}
console.log(JSON.stringify({ msg: 'edge stand-in listening', http: 8080, devices: 7000, routes }));
