/** Runner side of the simulated-display processes (bench/lib/sim-worker.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT, TSX_NODE_ARGS } from './platform.ts';

export type SimCommand =
  | {
      op: 'launch';
      credentials: [string, string][];
      port: number;
      /** connects per second */
      rate: number;
      /** displays per source address (127.0.x.y) */
      perAddress: number;
      /** x in 127.0.x.y, so several workers use disjoint addresses */
      addressBase: number;
      plays: boolean;
      speed: number;
      batchEveryMs: number;
      playlistVersion?: number;
    }
  | { op: 'status' }
  | { op: 'applied'; expect: [string, number][] }
  | { op: 'welcomes' }
  | { op: 'stopPlays' }
  | { op: 'stopAll' }
  | { op: 'memory' }
  /** The playlist the first display applied last (what a playlist frame carries), or null. */
  | { op: 'samplePlaylist' };

/** Commands of bench/lib/mqtt-worker.ts (the Mosquitto peer's subscribers). */
export type MqttCommand =
  | {
      op: 'connect';
      /** One subscriber per topic; the topic doubles as its client id. */
      topics: string[];
      port: number;
      rate: number;
      perAddress: number;
      addressBase: number;
      keepAliveSec: number;
      /** PINGREQ every heartbeatMs ± 10 %, as displays send heartbeats. */
      heartbeatMs: number;
    }
  | { op: 'status' }
  | { op: 'received'; version: number }
  | { op: 'closeAll' };

export interface MqttWorkerStatus {
  total: number;
  online: number;
  pingsSent: number;
  pingresps: number;
  parseFailures: number;
  errors: Record<string, number>;
}

export interface SimStatus {
  total: number;
  online: number;
  welcomes: number;
  connects: number;
  playlists: number;
  plays: number;
  playsAcked: number;
  playsRejected: number;
  unacked: number;
  errors: Record<string, number>;
}

export class SimProcess {
  private seq = 0;
  private waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;

  /** `worker`: sim-worker.ts (simulated displays) or mqtt-worker.ts (MQTT subscribers). */
  constructor(name: string, private readonly worker: 'sim-worker.ts' | 'mqtt-worker.ts' = 'sim-worker.ts') {
    this.child = fork(path.join(ROOT, 'bench/lib', worker), [], {
      cwd: ROOT,
      execArgv: [...TSX_NODE_ARGS, '--max-old-space-size=4096'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, SIM_NAME: name },
    });
    this.child.on('message', (m: { seq: number; ok: boolean; value?: unknown; error?: string }) => {
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.waiting.delete(m.seq);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`display simulator exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  call<T = any>(cmd: SimCommand | MqttCommand): Promise<T> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.child.send({ seq, cmd });
    });
  }

  status(): Promise<SimStatus> {
    return this.call({ op: 'status' });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call(this.worker === 'mqtt-worker.ts' ? { op: 'closeAll' } : { op: 'stopAll' }).catch(() => {});
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

/** Sums the status of several simulator processes. */
export async function totalStatus(sims: SimProcess[]): Promise<SimStatus> {
  const all = await Promise.all(sims.map((s) => s.status()));
  const t: SimStatus = { total: 0, online: 0, welcomes: 0, connects: 0, playlists: 0, plays: 0, playsAcked: 0, playsRejected: 0, unacked: 0, errors: {} };
  for (const s of all) {
    for (const k of ['total', 'online', 'welcomes', 'connects', 'playlists', 'plays', 'playsAcked', 'playsRejected', 'unacked'] as const) t[k] += s[k];
    for (const [c, n] of Object.entries(s.errors)) t.errors[c] = (t.errors[c] ?? 0) + n;
  }
  return t;
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, onTick?: (v: T) => void, everyMs = 250): Promise<{ value: T; ms: number; timedOut: boolean }> {
  const t0 = performance.now();
  for (;;) {
    const v = await probe();
    onTick?.(v);
    if (done(v)) return { value: v, ms: performance.now() - t0, timedOut: false };
    if (performance.now() - t0 > timeoutMs) return { value: v, ms: performance.now() - t0, timedOut: true };
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
