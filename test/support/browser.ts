/**
 * Real Chromium for browser tests: Debian's `chromium` driven by playwright-core (never a browser
 * downloaded by Playwright). Without one the browser suites are skipped with a loud warning,
 * unless MARQUEE_REQUIRE_BROWSER=1 (CI sets it), which makes "not found" a failure.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const BROWSER_REQUIRED = process.env.MARQUEE_REQUIRE_BROWSER === '1';

/** MARQUEE_CHROMIUM, else the first Chromium found on the usual Debian paths. */
export function findChromium(): string | undefined {
  const chosen = process.env.MARQUEE_CHROMIUM;
  if (chosen) return existsSync(chosen) ? chosen : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

export const CHROMIUM_MISSING =
  'No Chromium found (looked at MARQUEE_CHROMIUM, ' +
  CANDIDATES.join(', ') +
  '). Install it with `apt-get -o DPkg::Lock::Timeout=600 install -y chromium`.';

/** Warns (or, when required, throws) if there is no browser; returns its path otherwise. */
export function chromiumOrWarn(): string | undefined {
  const found = findChromium();
  if (!found) {
    if (BROWSER_REQUIRED) throw new Error(`MARQUEE_REQUIRE_BROWSER=1 and the web console's browser tests cannot run. ${CHROMIUM_MISSING}`);
    const banner = '!'.repeat(100);
    console.warn(`\n${banner}\nThe web console's browser tests are SKIPPED. ${CHROMIUM_MISSING}\n(MARQUEE_REQUIRE_BROWSER=1 makes this a failure, as in CI.)\n${banner}\n`);
  }
  return found;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      // As root Chromium refuses its sandbox; the rest keep it from calling home or using a GPU.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Waits until the locator's text matches (the page updates on its own: polling, no reload). */
export async function textMatching(locator: Locator, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await locator.first().textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null)) ?? '';
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}; last text: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
