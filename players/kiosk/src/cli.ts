/** Command line of the kiosk player: clean errors, and the secret from a file or the environment only. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SECRET_ENV, readDisplaySecret, secretOnCommandLine } from '@marquee/display-client';
import type { PlayerConfig } from './player.ts';

export const PLAYER_USAGE = `Marquee kiosk player: shows a display's playlist full screen in Chromium and reports proof of play.

  npm run player -- --server HOST:PORT --display-id ID --secret-file PATH [options]
  ${SECRET_ENV}=… npm run player -- --server HOST:PORT --display-id ID [options]

Required:
  --server HOST:PORT     device-tcp (or the load balancer in front of it), e.g. displays.example.com:7000
  --display-id ID        the display's id (from POST /v2/displays)
  --secret-file PATH     file holding the display's secret (trailing newline ignored); or set
                         ${SECRET_ENV}. The secret is never accepted on the command line.

TLS (production displays must use it):
  --tls                  connect with TLS, verifying the server against the system's CAs and its name
  --ca FILE              … against this CA certificate (PEM) instead (implies --tls)
  --pin SHA256           … or accept exactly the server certificate with this SHA-256 fingerprint
                         (hex, colons allowed: 'openssl x509 -noout -fingerprint -sha256'; implies --tls)

Screen:
  --headless             no window (tests, or capturing only); default is full-screen kiosk
  --window WxH           window / viewport size (default 1920x1080)
  --chromium PATH        the browser (default /usr/bin/chromium, or $CHROMIUM_PATH)

Storage and local page:
  --data-dir DIR         playlist, media cache and unsent plays (default $XDG_STATE_HOME/marquee-player
                         or ~/.local/state/marquee-player)
  --page-port PORT       port of the local page server on 127.0.0.1 (default: any free port)

  -h, --help             this text
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export type PlayerArgs = { help: true } | ({ help: false } & Omit<PlayerConfig, 'log'>);

const OPTIONS = {
  server: { type: 'string' },
  'display-id': { type: 'string' },
  'secret-file': { type: 'string' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  pin: { type: 'string' },
  headless: { type: 'boolean' },
  window: { type: 'string', default: '1920x1080' },
  chromium: { type: 'string' },
  'data-dir': { type: 'string' },
  'page-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parsePlayerArgs(argv: string[], env: NodeJS.ProcessEnv): PlayerArgs {
  if (secretOnCommandLine(argv)) {
    throw new UsageError(`--secret is not accepted: a secret on the command line shows in ps and shell history. Use --secret-file PATH or ${SECRET_ENV}.`);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
  }
  if (values.help) return { help: true };

  const server = /^(.+):(\d{1,5})$/.exec((values.server as string | undefined) ?? '');
  if (!server) throw new UsageError('--server HOST:PORT is required (e.g. --server 127.0.0.1:7000)');
  const port = Number(server[2]);
  if (port < 1 || port > 65_535) throw new UsageError('--server: the port must be 1–65535');
  const host = server[1]!.replace(/^\[(.*)\]$/, '$1');
  const displayId = values['display-id'] as string | undefined;
  if (!displayId) throw new UsageError('--display-id is required');
  let secret: string | null;
  try {
    secret = readDisplaySecret(values['secret-file'] as string | undefined, env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!secret) throw new UsageError(`no secret: give --secret-file PATH or set ${SECRET_ENV}`);

  let tls: PlayerConfig['tls'];
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
      if (!/^[0-9a-fA-F]{64}$/.test((values.pin as string).replace(/:/g, ''))) throw new UsageError('--pin must be a SHA-256 fingerprint: 64 hex digits, colons allowed');
      tls.pinSha256 = values.pin as string;
    }
  }
  const size = /^(\d{2,5})x(\d{2,5})$/.exec(values.window as string);
  if (!size) throw new UsageError('--window must be WIDTHxHEIGHT, e.g. 1920x1080');
  let pagePort: number | undefined;
  if (values['page-port'] !== undefined) {
    pagePort = Number(values['page-port']);
    if (!Number.isInteger(pagePort) || pagePort < 0 || pagePort > 65_535) throw new UsageError('--page-port must be 0–65535');
  }
  const stateHome = env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return {
    help: false,
    host,
    port,
    displayId,
    secret,
    ...(tls ? { tls } : {}),
    dataDir: path.resolve((values['data-dir'] as string | undefined) ?? path.join(stateHome, 'marquee-player')),
    chromiumPath: (values.chromium as string | undefined) ?? env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: !!values.headless,
    width: Number(size[1]),
    height: Number(size[2]),
    ...(pagePort !== undefined ? { pagePort } : {}),
  };
}
