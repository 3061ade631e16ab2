/**
 * Waits for a condition by probing it every 20 ms (the event itself, never a fixed sleep), and
 * returns the probe's first truthy value; after `ms` it fails naming what it waited for.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, ms = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
