/**
 * A process that stops as a service does (onShutdown) with one step of the kind named by argv[2]:
 * `done` finishes, `fails` throws, `stuck` never finishes while holding the event loop open (as a
 * pool waiting on a socket does). Run by shutdown.test.ts; SHUTDOWN_GRACE_MS comes from its env.
 */
import { createLogger } from '../../src/logger.ts';
import { onShutdown } from '../../src/shutdown.ts';

const behaviour = process.argv[2];
const steps = {
  done: () => undefined,
  fails: () => {
    throw new Error('the step failed');
  },
  stuck: () => new Promise(() => setInterval(() => {}, 1_000)),
};
const run = steps[behaviour as keyof typeof steps];
if (!run) throw new Error(`unknown step behaviour ${behaviour}`);

const logger = createLogger('shutdown-test', 'info');
onShutdown(logger, Number(process.env.SHUTDOWN_GRACE_MS), [{ name: behaviour!, run }]);
// Alive until signalled, as a listening service is.
setInterval(() => {}, 1_000);
logger.info('ready');
