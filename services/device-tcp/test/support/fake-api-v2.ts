/**
 * The api-v2 internal endpoints device-tcp calls (services/device-tcp/README.md), served over
 * real HTTP from a MemoryDirectory. Lets the HTTP directory be tested against the written contract.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemoryDirectory } from './memory-directory.ts';

export interface FakeApiV2 {
  url: string;
  requests: string[];
  /** The display ids of each POST /internal/displays/handshakes call, in arrival order. */
  handshakeCalls: string[][];
  /** The most handshake calls that were open at the same time. */
  maxHandshakesInFlight: number;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

/** `legacy`: answer like api-v2 before batched hellos (no /internal/displays/handshakes). */
export async function startFakeApiV2(directory: MemoryDirectory, options: { legacy?: boolean } = {}): Promise<FakeApiV2> {
  const requests: string[] = [];
  const handshakeCalls: string[][] = [];
  let handshakesInFlight = 0;
  let maxHandshakesInFlight = 0;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (directory.down) return send(503, { type: 'about:blank', title: 'down', status: 503 });
    const body = await readJson(req);
    let m: RegExpMatchArray | null;
    // Like api-v2: ids longer than it ever issues fail validation.
    if (typeof body?.displayId === 'string' && body.displayId.length > 64) return send(422, { status: 422, title: 'invalid display id' });
    if (req.method === 'POST' && url.pathname === '/internal/displays/authenticate') {
      return send(200, await directory.authenticate(body.displayId, body.secret));
    }
    if (req.method === 'GET' && (m = url.pathname.match(/^\/internal\/displays\/([^/]+)\/commands\/pending$/))) {
      return send(200, { commands: await directory.takePendingCommands(decodeURIComponent(m[1]!)) });
    }
    if (req.method === 'POST' && url.pathname === '/internal/displays/handshakes' && !options.legacy) {
      // Like api-v2: a batch with an id or secret it never issues fails validation as a whole.
      if (!Array.isArray(body?.hellos) || body.hellos.some((h: any) => typeof h?.displayId !== 'string' || h.displayId.length > 64 || typeof h.secret !== 'string' || h.secret.length > 256)) {
        return send(422, { status: 422, title: 'invalid hellos' });
      }
      handshakeCalls.push(body.hellos.map((h: { displayId: string }) => h.displayId));
      maxHandshakesInFlight = Math.max(maxHandshakesInFlight, ++handshakesInFlight);
      try {
        return send(200, { answers: await Promise.all(body.hellos.map((h: any) => directory.handshake(h))) });
      } finally {
        handshakesInFlight--;
      }
    }
    if (req.method === 'GET' && (m = url.pathname.match(/^\/internal\/displays\/([^/]+)\/playlist$/))) {
      const playlist = await directory.getPlaylist(decodeURIComponent(m[1]!));
      return playlist ? send(200, playlist) : send(404, { status: 404, title: 'no playlist' });
    }
    if (req.method === 'POST' && url.pathname === '/internal/playlists') {
      const playlists: Record<string, unknown> = {};
      for (const id of body.displayIds as string[]) {
        const playlist = await directory.getPlaylist(id);
        if (playlist) playlists[id] = playlist;
      }
      return send(200, { playlists });
    }
    if (req.method === 'POST' && url.pathname === '/internal/playlists/versions') {
      return send(200, { versions: await directory.getPlaylistVersions(body.displayIds) });
    }
    if (req.method === 'POST' && (m = url.pathname.match(/^\/internal\/displays\/([^/]+)\/plays$/))) {
      return send(200, await directory.ingestPlays(decodeURIComponent(m[1]!), body.plays));
    }
    if (req.method === 'POST' && url.pathname === '/internal/presence') {
      await directory.reportPresence(body.events);
      return send(204);
    }
    if (req.method === 'POST' && (m = url.pathname.match(/^\/internal\/commands\/([^/]+)\/result$/))) {
      if (!/^[0-9a-f-]{36}$/.test(m[1]!)) return send(422, { status: 422, title: 'invalid command id' });
      const { displayId, ...result } = body;
      await directory.reportCommandResult(displayId, { ...result, commandId: decodeURIComponent(m[1]!) });
      return send(204);
    }
    send(404, { status: 404, title: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handshakeCalls,
    get maxHandshakesInFlight() {
      return maxHandshakesInFlight;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
