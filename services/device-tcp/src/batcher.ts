/**
 * Gathers single requests into one call: sent after `delayMs`, or at once when `max` are waiting,
 * with at most `concurrency` calls out; requests keep accumulating into the next call meanwhile.
 * A reconnect storm or an edit on thousands of displays thus costs api-v2 a few set-based calls.
 */
export class Batcher<Req, Res> {
  private pending: { req: Req; resolve: (res: Res) => void; reject: (err: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;

  constructor(
    private readonly run: (reqs: Req[]) => Promise<Res[]>,
    private readonly opts: { delayMs: number; max: number; concurrency: number },
  ) {}

  /** Requests not yet sent. */
  get waiting(): number {
    return this.pending.length;
  }

  add(req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.pending.push({ req, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.opts.concurrency || this.pending.length === 0) return;
    if (this.pending.length >= this.opts.max) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.opts.delayMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 || this.inFlight >= this.opts.concurrency) return;
    const batch = this.pending.splice(0, this.opts.max);
    this.inFlight++;
    let call: Promise<Res[]>;
    try {
      call = this.run(batch.map((b) => b.req));
    } catch (err) {
      call = Promise.reject(err);
    }
    call
      .then(
        (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
        (err) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
  }
}
