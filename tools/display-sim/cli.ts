/**
 * Command line of the display simulator: parsing with clean errors (never a stack trace), and
 * the secret read from a file or the environment — never from argv, where `ps`, shell history
 * and npm's own echo of the command would show it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readDisplaySecret, secretOnCommandLine } from '@marquee/display-client';

export const USAGE = `Simulated displays for Marquee's device-tcp (docs/display-protocol.md).

One display, verbose (prints what it would show, reports plays, answers commands):
  npm run display -- --id DISPLAY_ID --secret-file PATH [options]
  MARQUEE_DISPLAY_SECRET=… npm run display -- --id DISPLAY_ID [options]

Many displays, one progress line (source addresses spread over 127.0.0.x):
  npm run display -- --count N [--id-pattern 'sim-{n}'] --secret-file PATH   (the secret may contain {n})
  npm run display -- --count N --credentials FILE.csv                         (lines "id,secret")

Connection:
  --host HOST            device-tcp host (default 127.0.0.1)
  --port PORT            device-tcp port (default 7000)
  --tls                  connect with TLS, verifying the server against the system's CAs
  --ca FILE              … against this CA certificate (PEM) instead (implies --tls)
  --pin SHA256           … or accept exactly the certificate with this SHA-256 fingerprint
                         (hex, colons allowed, as 'openssl x509 -fingerprint -sha256' prints it; implies --tls)
  --proxy v1|v2          send a PROXY protocol header first, as a load balancer would (plain TCP only)
  --no-reconnect         stop after the first connection closes

Secret (never on the command line):
  --secret-file PATH     read the display secret from this file (trailing newline ignored)
  MARQUEE_DISPLAY_SECRET environment variable, used when --secret-file is not given

Playing:
  --plays / --no-plays   play the loop and report plays (default: on for one display, off for --count)
  --speed X              load generation only: run the loop X times faster than real time (default 1).
                         At 1 the display follows the loop's time origin on the server's clock exactly;
                         at X ≠ 1 plays are stamped with real time but keep their nominal durations, so
                         a server that validates slots will reject most of them.
  --batch-every MS       send a plays batch this long after the first unsent play (default 10000)

Many displays:
  --count N              how many displays
  --id-pattern P         display ids, {n} = number (default 'sim-{n}')
  --credentials FILE     "id,secret" lines instead of patterns
  --first N              first {n} (default 1)
  --rate N               connects per second (default 1000)
  --per-address N        displays per source address 127.0.0.x (default 20000)

  --duration S           stop after S seconds (default: until Ctrl-C)
  -h, --help             this text
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '7000' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  pin: { type: 'string' },
  id: { type: 'string' },
  'secret-file': { type: 'string' },
  count: { type: 'string' },
  'id-pattern': { type: 'string', default: 'sim-{n}' },
  credentials: { type: 'string' },
  first: { type: 'string', default: '1' },
  rate: { type: 'string', default: '1000' },
  'per-address': { type: 'string', default: '20000' },
  duration: { type: 'string' },
  plays: { type: 'boolean' },
  'no-plays': { type: 'boolean' },
  speed: { type: 'string', default: '1' },
  'batch-every': { type: 'string', default: '10000' },
  proxy: { type: 'string' },
  'no-reconnect': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SimArgs {
  help: boolean;
  host: string;
  port: number;
  tls: { ca?: string; pinSha256?: string } | null;
  proxy: 'v1' | 'v2' | null;
  reconnect: boolean;
  plays: boolean | null;
  speed: number;
  batchEveryMs: number;
  durationS: number | null;
  /** One display. */
  single: { id: string; secret: string } | null;
  /** Many displays. */
  fleet: { count: number; first: number; rate: number; perAddress: number; credentials: (n: number, i: number) => [string, string] } | null;
}

function int(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** Parses argv; throws UsageError with a one-line reason on anything wrong. */
export function parseSimArgs(argv: string[], env: NodeJS.ProcessEnv): SimArgs {
  if (secretOnCommandLine(argv)) {
    throw new UsageError('--secret is not accepted: a secret on the command line shows in ps and shell history. Use --secret-file PATH or MARQUEE_DISPLAY_SECRET.');
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's messages are fine for people; its stack trace and error code are not.
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
  }
  const base = {
    help: !!values.help,
    host: values.host as string,
    port: int('port', values.port as string, 1),
    proxy: null as SimArgs['proxy'],
    reconnect: !values['no-reconnect'],
    plays: values.plays ? true : values['no-plays'] ? false : null,
    speed: Number(values.speed),
    batchEveryMs: int('batch-every', values['batch-every'] as string, 10),
    durationS: values.duration === undefined ? null : int('duration', values.duration as string, 1),
  };
  if (base.help) return { ...base, tls: null, single: null, fleet: null };
  if (base.port > 65_535) throw new UsageError('--port must be at most 65535');
  if (!(base.speed > 0) || !Number.isFinite(base.speed)) throw new UsageError('--speed must be a positive number');
  if (values.proxy !== undefined) {
    if (values.proxy !== 'v1' && values.proxy !== 'v2') throw new UsageError('--proxy must be v1 or v2');
    base.proxy = values.proxy;
  }
  let tls: SimArgs['tls'] = null;
  if (values.tls || values.ca || values.pin) {
    tls = {};
    if (values.ca) {
      try {
        tls.ca = readFileSync(values.ca as string, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --ca ${values.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (values.pin) {
      const hex = (values.pin as string).replace(/:/g, '');
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError('--pin must be a SHA-256 fingerprint: 64 hex digits, colons allowed');
      tls.pinSha256 = hex;
    }
    if (base.proxy) throw new UsageError('--proxy cannot be combined with TLS (a load balancer adds PROXY headers outside TLS)');
  }
  const secretSource = () => {
    try {
      return readDisplaySecret(values['secret-file'] as string | undefined, env);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };

  if (values.count === undefined) {
    if (!values.id) throw new UsageError('give --id (with --secret-file or MARQUEE_DISPLAY_SECRET) for one display, or --count N for many');
    const secret = secretSource();
    if (secret === null) throw new UsageError('no secret: give --secret-file PATH or set MARQUEE_DISPLAY_SECRET');
    return { ...base, tls, single: { id: values.id as string, secret }, fleet: null };
  }
  const count = int('count', values.count as string, 1);
  const first = int('first', values.first as string, 0);
  const rate = int('rate', values.rate as string, 1);
  const perAddress = int('per-address', values['per-address'] as string, 1);
  if (Math.ceil(count / perAddress) > 254) throw new UsageError('too many displays for 127.0.0.1–254 at this --per-address');
  let credentials: (n: number, i: number) => [string, string];
  if (values.credentials) {
    let lines: [string, string][];
    try {
      lines = readFileSync(values.credentials as string, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(',').map((s) => s.trim()) as [string, string]);
    } catch (err) {
      throw new UsageError(`cannot read --credentials ${values.credentials}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (lines.some((l) => l.length !== 2 || !l[0] || !l[1])) throw new UsageError(`${values.credentials}: every line must be "id,secret"`);
    if (lines.length < count) throw new UsageError(`${values.credentials} has only ${lines.length} credentials`);
    credentials = (_n, i) => lines[i]!;
  } else {
    const secretPattern = secretSource();
    if (secretPattern === null) throw new UsageError('no secrets: give --credentials FILE, or --secret-file PATH / MARQUEE_DISPLAY_SECRET (may contain {n})');
    const fill = (pattern: string, n: number) => pattern.replaceAll('{n}', String(n));
    const idPattern = values['id-pattern'] as string;
    credentials = (n) => [fill(idPattern, n), fill(secretPattern, n)];
  }
  return { ...base, tls, single: null, fleet: { count, first, rate, perAddress, credentials } };
}
