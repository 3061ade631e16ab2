/**
 * api-v1 as production runs it (`src/main.ts` in its own process) stopped by SIGTERM while a
 * request is provably in flight: its handler waits on a stand-in account service the test holds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { listeningUrls, startServiceProcess, waitUntilRefused, type ServiceProcess } from '../../../test/support/processes.ts';

interface HeldRequest {
  path: string;
  body: string;
  answer(status: number, body: unknown): void;
}

/** An HTTP server that holds every request until the test answers it. */
async function startHeldUpstream() {
  const arrived: HeldRequest[] = [];
  const waiters: ((r: HeldRequest) => void)[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const held: HeldRequest = {
        path: req.url ?? '',
        body,
        answer: (status, answer) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
      };
      const waiter = waiters.shift();
      if (waiter) waiter(held);
      else arrived.push(held);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: () => new Promise<HeldRequest>((resolve) => (arrived.length ? resolve(arrived.shift()!) : waiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startApiV1(upstreamUrl: string, graceMs: number): Promise<{ proc: ServiceProcess; url: string }> {
  const proc = startServiceProcess('api-v1', {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: String(graceMs),
    ACCOUNT_URL: upstreamUrl,
    // Longer than anything here, so the held call never times out on its own.
    ACCOUNT_TIMEOUT_MS: '60000',
    API_V2_URL: upstreamUrl,
    API_V2_INTERNAL_URL: upstreamUrl,
  });
  cleanups.push(() => proc.kill());
  return { proc, url: (await listeningUrls(proc)).url };
}

/** POST /v1/login; resolves with the answer, or with the socket error if the connection is cut. */
function login(url: string) {
  return fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'held-user', password: 'a-long-passphrase' }),
  }).then(
    async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }),
    (err: Error) => ({ error: err }),
  );
}

it('on SIGTERM stops accepting, finishes the request waiting on the account service and exits 0', async () => {
  const upstream = await startHeldUpstream();
  cleanups.push(upstream.close);
  const { proc, url } = await startApiV1(upstream.url, 20_000);

  const answer = login(url);
  // api-v1's handler is now blocked on this call, which the test holds.
  const held = await upstream.next();
  expect(held.path).toBe('/login');
  proc.child.kill('SIGTERM');
  await waitUntilRefused(url);
  held.answer(200, { accessToken: 'token-from-the-held-login', user: { id: '2b1f3c4d-0000-4000-8000-000000000001' } });

  expect(await answer).toEqual({ status: 200, body: { status: 0, message: 'login succeed', userid: '2b1f3c4d-0000-4000-8000-000000000001', token: 'token-from-the-held-login' } });
  expect(await proc.exited).toBe(0);
  expect(proc.logs().map((l) => l.msg)).toContain('shutdown complete');
}, 90_000);

it('a request outliving SHUTDOWN_GRACE_MS is cut when it ends and the process exits 1, saying so', async () => {
  const upstream = await startHeldUpstream();
  cleanups.push(upstream.close);
  const graceMs = 1_500;
  const { proc, url } = await startApiV1(upstream.url, graceMs);

  const answer = login(url);
  await upstream.next(); // held for good
  const signalledAt = performance.now();
  proc.child.kill('SIGTERM');
  await waitUntilRefused(url);

  expect(await proc.exited).toBe(1);
  // It waited out the grace period (the one bound asserted here; the upper side has wide slack).
  const waited = proc.exitedAt()! - signalledAt;
  expect(waited).toBeGreaterThanOrEqual(graceMs);
  expect(waited).toBeLessThan(graceMs + 30_000);
  expect(await answer).toMatchObject({ error: expect.any(Error) });
  // The server itself cut the request at the configured grace period and the shutdown went on to
  // its end, rather than the last-resort deadline (graceMs + 1 s) ending a drain that never did.
  const cut = proc.logs().find((l) => l.msg === 'shutdown grace period exceeded; requests still running were cut');
  expect(cut).toMatchObject({ level: 50, graceMs, connectionsCut: expect.any(Number) });
  expect(cut!.connectionsCut).toBeGreaterThanOrEqual(1);
  expect(proc.logs().map((l) => l.msg)).not.toContain('shutdown complete');
}, 90_000);
