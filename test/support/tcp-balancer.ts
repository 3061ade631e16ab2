/**
 * A tiny round-robin TCP balancer standing in for the production edge's TCP entrypoint: each new
 * connection goes to the next backend that accepts it, so a display told to reconnect by a
 * draining replica lands on another one, as it would behind Traefik.
 */
import net from 'node:net';

export interface TcpBalancer {
  port: number;
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: () => number[]): Promise<TcpBalancer> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const ports = backends();
    const tryBackend = (attempt: number) => {
      if (attempt >= ports.length) return client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      upstream.once('error', () => tryBackend(attempt + 1));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
