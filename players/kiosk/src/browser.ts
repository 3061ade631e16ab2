/**
 * The screen: Debian's Chromium in kiosk mode (or headless for tests), driven over the DevTools
 * protocol with playwright-core. It shows the daemon's page, comes back if the browser crashes or
 * is closed, and takes real screenshots (Page.captureScreenshot), scaled and compressed to fit a
 * byte budget.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export interface KioskBrowserOptions {
  executablePath: string;
  headless: boolean;
  /** Window size (headless: the viewport; kiosk: the initial window before it goes full screen). */
  width: number;
  height: number;
  url: string;
  log: (line: string) => void;
}

export interface Screenshot {
  mimeType: 'image/png' | 'image/jpeg';
  dataBase64: string;
  width: number;
  height: number;
}

export class KioskBrowser {
  private browser: Browser | null = null;
  private page: Page | null = null;
  private stopped = false;
  private restarting: Promise<void> | null = null;
  /** Launches since start (1 = never crashed). */
  launches = 0;

  constructor(private readonly opts: KioskBrowserOptions) {}

  async start(): Promise<void> {
    await this.launch();
  }

  private async launch(): Promise<void> {
    const { headless, width, height } = this.opts;
    const args = [
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--disable-dev-shm-usage',
      '--disable-translate',
      '--disable-features=Translate,MediaRouter',
      '--disable-session-crashed-bubble',
      '--noerrdialogs',
      '--password-store=basic',
      '--autoplay-policy=no-user-gesture-required',
      `--window-size=${width},${height}`,
      ...(headless ? ['--disable-gpu', '--hide-scrollbars', '--mute-audio'] : ['--kiosk', '--start-fullscreen', '--overscroll-history-navigation=0']),
      // Chromium refuses to start its sandbox as root; a kiosk user should not be root anyway (see README).
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ];
    this.browser = await chromium.launch({
      executablePath: this.opts.executablePath,
      headless,
      args,
      // The "controlled by automated software" bar has no place on a screen in a shop window.
      ignoreDefaultArgs: ['--enable-automation'],
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    this.launches++;
    const context = await this.browser.newContext({ viewport: headless ? { width, height } : null, deviceScaleFactor: 1 });
    this.page = await context.newPage();
    this.page.on('crash', () => {
      this.opts.log('the page crashed; reloading it');
      void this.page?.reload().catch(() => this.relaunch());
    });
    this.browser.on('disconnected', () => {
      if (!this.stopped) {
        this.opts.log('Chromium went away; starting it again');
        void this.relaunch();
      }
    });
    await this.page.goto(this.opts.url);
  }

  private relaunch(): Promise<void> {
    this.restarting ??= (async () => {
      await this.browser?.close().catch(() => {});
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.launch();
          break;
        } catch (err) {
          this.opts.log(`Chromium did not start: ${(err as Error).message.split('\n')[0]}`);
          await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** attempt)));
        }
      }
    })().finally(() => (this.restarting = null));
    return this.restarting;
  }

  /** Evaluates an expression in the player page (diagnostics and tests). */
  async evaluate<T>(expression: string): Promise<T> {
    if (!this.page) throw new Error('no page');
    return (await this.page.evaluate(expression)) as T;
  }

  /** Reloads the player page (the `reload` command). */
  async reload(): Promise<void> {
    if (!this.page) throw new Error('no page');
    await this.page.reload();
  }

  /**
   * What is on screen now: PNG if it fits `maxBytes` of base64, else JPEG at falling quality,
   * then smaller, never wider than `maxWidth`.
   */
  async screenshot(maxWidth: number, maxBytes: number): Promise<Screenshot> {
    const page = this.page;
    if (!page) throw new Error('no page on screen');
    const { width, height } = await page.evaluate('({ width: innerWidth, height: innerHeight })') as { width: number; height: number };
    const cdp = await page.context().newCDPSession(page);
    try {
      let scale = Math.min(1, maxWidth / width);
      for (let round = 0; round < 6; round++, scale *= 0.6) {
        const tries = [{ format: 'png' as const }, { format: 'jpeg' as const, quality: 85 }, { format: 'jpeg' as const, quality: 60 }, { format: 'jpeg' as const, quality: 40 }];
        for (const t of tries) {
          const { data } = await cdp.send('Page.captureScreenshot', { ...t, clip: { x: 0, y: 0, width, height, scale }, captureBeyondViewport: false });
          if (data.length <= maxBytes) return { mimeType: `image/${t.format}`, dataBase64: data, width: Math.round(width * scale), height: Math.round(height * scale) };
        }
      }
      throw new Error(`no screenshot fits in ${maxBytes} bytes`);
    } finally {
      await cdp.detach().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.restarting?.catch(() => {});
    await this.browser?.close().catch(() => {});
    this.browser = null;
    this.page = null;
  }
}
