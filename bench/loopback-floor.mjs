// The floor of pushing one small frame to many displays on this machine, without any Marquee code:
// one process writes a 400-byte frame to each of N loopback sockets held by a second process, three
// rounds. Prints the write loop's wall and CPU time (user/system) and when the reader had them all.
//   node bench/loopback-floor.mjs [N=10000]
import { fork } from 'node:child_process';
import net from 'node:net';

const FRAME_BYTES = 400;

if (process.argv[2] === '--reader') {
  const [port, n] = [Number(process.argv[3]), Number(process.argv[4])];
  let got = 0;
  let start = 0;
  let cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    // Paced, so the listen backlog never overflows (a dropped SYN is retried only after a second).
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 20));
    // Spread over source addresses: one address has ~28 000 ephemeral ports.
    const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.${1 + Math.floor(i / 25_000)}.${1 + (Math.floor(i / 100) % 250)}` });
    s.on('error', (e) => console.error('reader socket error', e.code));
    s.on('data', (d) => {
      got += d.length;
      if (got < n * FRAME_BYTES) return;
      const cpu = process.cpuUsage(cpu0);
      process.send({ ms: Date.now() - start, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      got = 0;
    });
  }
  process.on('message', (m) => {
    start = m.start;
    cpu0 = process.cpuUsage();
  });
} else {
  const n = Number(process.argv[2] ?? 10_000);
  const sockets = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', () => {});
    sockets.push(s);
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4_096 }, async () => {
    const reader = fork(new URL(import.meta.url).pathname, ['--reader', String(server.address().port), String(n)]);
    for (let w = 0; sockets.length < n && w < 1_200; w++) await new Promise((r) => setTimeout(r, 50));
    if (sockets.length < n) throw new Error(`only ${sockets.length} of ${n} connected`);
    const frame = Buffer.alloc(FRAME_BYTES, 120);
    for (let round = 1; round <= 3; round++) {
      await new Promise((r) => setTimeout(r, 500));
      const done = new Promise((r) => reader.once('message', r));
      reader.send({ start: Date.now() });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (const s of sockets) s.write(frame);
      const loopMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const got = await done;
      console.log(
        `round ${round}: ${n} writes in ${loopMs.toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms); ` +
          `reader had all after ${got.ms} ms using ${got.cpuMs} ms of CPU`,
      );
    }
    reader.kill();
    process.exit(0);
  });
}
