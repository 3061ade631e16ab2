/**
 * What the demo keeps in the data folder between runs, in one file readable only by its owner
 * (0600): the generated passwords of the demo users and the device secret of each demo display.
 * Without it a second run could not sign in or reconnect the displays.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const Account = z.object({ username: z.string(), password: z.string() });
const DemoStateSchema = z.object({
  operator: Account.optional(),
  advertiser: Account.optional(),
  /** Device secret per display id. */
  displaySecrets: z.record(z.string(), z.string()).default({}),
});
export type DemoState = z.infer<typeof DemoStateSchema>;
export type DemoAccount = z.infer<typeof Account>;

export const credentialsFile = (dataDir: string) => path.join(dataDir, 'demo-credentials.json');

export async function loadState(dataDir: string): Promise<DemoState> {
  const file = credentialsFile(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { displaySecrets: {} };
    throw err;
  }
  const parsed = DemoStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not the demo's credentials file (${parsed.error.issues[0]?.message}); move it away to start over.`);
  return parsed.data;
}

/** Writes the state atomically (a crash leaves the old file or the new, never half of one), mode 0600. */
export async function saveState(dataDir: string, state: DemoState): Promise<void> {
  const file = credentialsFile(dataDir);
  await mkdir(dataDir, { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

/** A password for a demo user: 24 random base64url characters. */
export const generatePassword = () => randomBytes(18).toString('base64url');
