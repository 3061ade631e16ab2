/**
 * device-tcp with an in-memory stand-in for api-v2, for trying the simulator and for load runs:
 *   npx tsx --conditions=marquee-source services/device-tcp/test/support/standalone.ts [displays] [port] [changeEverySec]
 * Registers sim-1..sim-N with secret-1..secret-N, gives each a playlist, and (optionally) bumps
 * every playlist and publishes the change on the bus periodically. Prints RSS per connection.
 */
import { createLogger, createMemoryBus, createMetrics } from '@marquee/service-kit';
import { DeviceServer } from '../../src/device-server.ts';
import { createDeviceMetrics } from '../../src/metrics.ts';
import { MemoryDirectory } from './memory-directory.ts';

const displays = Number(process.argv[2] ?? 10);
const port = Number(process.argv[3] ?? 7000);
const changeEverySec = Number(process.argv[4] ?? 0);
const directory = new MemoryDirectory();
for (let n = 1; n <= displays; n++) {
  directory.addDisplay(`sim-${n}`, `secret-${n}`);
  directory.setPlaylist(`sim-${n}`, 1, 3);
}
directory.reportPresence = async () => {}; // keep memory flat during load runs
const bus = createMemoryBus();
const metrics = createMetrics('device-tcp');
const server = new DeviceServer(
  { host: '127.0.0.1', port, maxConnectionsPerAddress: 1_000_000, handshakesPerSecPerAddress: 100_000, handshakeBurstPerAddress: 100_000, handshakesPerSecTotal: 100_000, handshakeBurstTotal: 100_000 },
  { directory, bus, logger: createLogger('device-tcp', 'warn'), metrics: createDeviceMetrics(metrics.registry) },
);
await server.listen();
const baseline = process.memoryUsage().rss;
console.log(`device-tcp standalone on 127.0.0.1:${server.port}, ${displays} displays registered, baseline RSS ${(baseline / 1048576).toFixed(1)} MiB`);
let version = 1;
if (changeEverySec > 0) {
  setInterval(async () => {
    version++;
    for (let n = 1; n <= displays; n++) {
      directory.setPlaylist(`sim-${n}`, version, 3);
      await bus.publish('playlist.changed', { displayId: `sim-${n}`, version, publishedAt: Date.now() });
    }
  }, changeEverySec * 1000);
}
setInterval(() => {
  const rss = process.memoryUsage().rss;
  const n = server.sessionCount;
  const per = n > 0 ? ((rss - baseline) / n / 1024).toFixed(1) : '-';
  console.log(`connections ${server.connectionCount} sessions ${n} rss ${(rss / 1048576).toFixed(1)} MiB (+${per} KiB/session over baseline)`);
}, 5_000).unref();
process.on('SIGINT', async () => {
  await server.close();
  process.exit(0);
});
