import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningHttpServer {
  server: Server;
  url: string;
  port: number;
  /**
   * Stops accepting, lets in-flight requests finish (up to graceMs), then cuts what is left; in
   * that case it rejects with GracePeriodExceededError once the server is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Listens with @hono/node-server and resolves once the port is bound. */
export function listen(app: Hono<any>, host: string, port: number): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }) as Server;
    // Keep-alive sockets from internal clients should outlive a short idle gap but not a proxy's.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.requestTimeout = 120_000;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      resolve({
        server,
        port: address.port,
        url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`,
        close: (graceMs = 10_000) => closeServer(server, graceMs),
      });
    });
  });
}

/** Requests were still running when the grace period ended: their connections were cut. */
export class GracePeriodExceededError extends Error {
  constructor(readonly graceMs: number, readonly connectionsCut: number) {
    super(`${connectionsCut} connection(s) still busy when the ${graceMs} ms grace period ended were cut`);
    this.name = 'GracePeriodExceededError';
  }
}

export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    let cut = 0;
    const force = setTimeout(() => {
      server.getConnections((_err, count) => {
        cut = count;
        server.closeAllConnections();
      });
    }, graceMs);
    force.unref();
    // Idle keep-alive sockets would otherwise hold close() open until they time out, and a
    // connection whose last request finishes during the grace period turns idle, not closed.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      if (cut > 0) reject(new GracePeriodExceededError(graceMs, cut));
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Closes several servers at once (see closeServer), waiting for all of them; rejects afterwards if
 * any of them had to cut requests.
 */
export async function closeServers(servers: readonly RunningHttpServer[], graceMs: number): Promise<void> {
  const results = await Promise.allSettled(servers.map((s) => s.close(graceMs)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
