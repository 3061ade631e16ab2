/**
 * Browser tests need Debian's Chromium. Without it they say so loudly and skip — unless
 * MARQUEE_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

if (!HAVE_CHROMIUM) {
  if (process.env.MARQUEE_REQUIRE_BROWSER === '1') throw new Error(`MARQUEE_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  console.warn(`\n*** NO CHROMIUM at ${CHROMIUM}: the kiosk player's browser tests are SKIPPED (apt-get install chromium; MARQUEE_REQUIRE_BROWSER=1 makes this an error) ***\n`);
}

/** `describe` that runs only where Chromium is installed. */
export const describeWithBrowser: typeof describe = (HAVE_CHROMIUM ? describe : describe.skip) as typeof describe;
