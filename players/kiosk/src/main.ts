/** `npm run player -- --help`: the kiosk player as a process (systemd unit example in the README). */
import { PLAYER_USAGE, UsageError, parsePlayerArgs } from './cli.ts';
import { startPlayer } from './player.ts';

let args;
try {
  args = parsePlayerArgs(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`marquee-player: ${err.message}\n\n${PLAYER_USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(PLAYER_USAGE);
  process.exit(0);
}
const { help: _help, ...config } = args;
let player;
try {
  player = await startPlayer(config);
} catch (err) {
  process.stderr.write(`marquee-player: could not start: ${(err as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await player.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
