/**
 * The device-list cache against an api-v2 that hangs (accepts but does not answer), which the
 * end-to-end suite cannot stage cheaply: the stale copy must come at the deadline, and the slow
 * fetch must still refresh the copy for the next caller.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DependencyUnavailableError, type CatalogueDisplay, type InternalClient, type InternalRequest } from '@marquee/service-kit';
import { createCatalogueCache } from '../src/devices/catalogue-cache.ts';

const item = (name: string): CatalogueDisplay => ({
  id: '00000000-0000-4000-8000-000000000001',
  name,
  location: { address: 'A 1', lat: 52.5, lng: 13.4 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  orientation: 'landscape',
  tags: [],
  loop: { lengthMs: 60_000, slotCount: 6, slotMs: 10_000 },
  pricePerSlotHour: 5,
  currency: 'EUR',
  audienceMultiplier: 1,
  status: 'active',
  createdAt: '2030-01-01T00:00:00.000Z',
  online: true,
});

/** A client whose answers the test releases by hand. */
function scriptedClient() {
  const pending: { resolve: (v: any) => void; reject: (e: Error) => void }[] = [];
  let calls = 0;
  const client: InternalClient = {
    request: (<T>(_req: InternalRequest) => {
      calls++;
      return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
    }) as InternalClient['request'],
    breakerState: () => 'closed',
    close: async () => {},
    destroy: async () => {},
  };
  return {
    client,
    calls: () => calls,
    answer: (name: string) => pending.shift()!.resolve({ status: 200, headers: {}, body: { items: [item(name)] } }),
    answerBody: (body: unknown) => pending.shift()!.resolve({ status: 200, headers: {}, body }),
    fail: () => pending.shift()!.reject(new DependencyUnavailableError('down')),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

/** Whether a promise has settled by now (after pending microtasks and zero-delay work). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('catalogue cache', () => {
  it('waits for the first copy, then serves the last good copy at the deadline while api-v2 hangs', async () => {
    const api = scriptedClient();
    let stale = 0;
    const cache = createCatalogueCache({ apiV2Internal: api.client, staleAfterMs: 100, onStale: () => stale++ });

    const first = cache.get();
    api.answer('one');
    expect(await first).toEqual({ devices: [{ deviceid: item('').id, name: 'one', location: 'A 1', online: true, price: 5 }] });

    // api-v2 hangs: the caller waits exactly until the deadline, then gets the last good copy.
    vi.useFakeTimers();
    const hung = cache.get();
    await vi.advanceTimersByTimeAsync(99);
    expect(await settled(hung)).toBe(false);
    expect(stale).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(hung)).toBe(true);
    expect((await hung).devices[0]!.name).toBe('one');
    expect((await hung).staleAgeSeconds).toBe(0);
    expect(stale).toBe(1);

    // A second caller shares the fetch still in flight instead of starting another.
    const again = cache.get();
    expect(api.calls()).toBe(2);
    api.answer('two'); // the slow fetch finally lands and refreshes the copy
    expect((await again).devices[0]!.name).toBe('two');
    expect((await again).staleAgeSeconds).toBeUndefined();
  });

  it('serves the copy at once when api-v2 fails, and rejects when there is no copy yet', async () => {
    const api = scriptedClient();
    const cache = createCatalogueCache({ apiV2Internal: api.client, staleAfterMs: 5_000 });
    const cold = cache.get();
    api.fail();
    await expect(cold).rejects.toBeInstanceOf(DependencyUnavailableError);

    const warm = cache.get();
    api.answer('one');
    await warm;
    // A failure is answered from the copy at once: no time passes, no deadline is waited for.
    vi.useFakeTimers();
    const failing = cache.get();
    api.fail();
    expect(await settled(failing)).toBe(true);
    expect((await failing).staleAgeSeconds).toBe(0);
  });

  it('reports the age of the copy it serves in whole seconds (the v1 Age header)', async () => {
    const api = scriptedClient();
    let clock = 1_000_000;
    const cache = createCatalogueCache({ apiV2Internal: api.client, staleAfterMs: 5_000, now: () => clock });
    const warm = cache.get();
    api.answer('one');
    await warm;
    for (const [elapsedMs, age] of [[999, 0], [1_000, 1], [2_500, 2], [61_000, 61]] as const) {
      clock = 1_000_000 + elapsedMs;
      const failing = cache.get();
      api.fail();
      expect((await failing).staleAgeSeconds).toBe(age);
    }
  });

  it('treats an answer off the catalogue contract as a failing api-v2: the copy is served, never the bad answer', async () => {
    const api = scriptedClient();
    const cache = createCatalogueCache({ apiV2Internal: api.client, staleAfterMs: 5_000 });
    const cold = cache.get();
    api.answerBody({ items: [{ id: 'not-a-uuid', name: 'x' }] });
    await expect(cold).rejects.toBeInstanceOf(DependencyUnavailableError);
    const warm = cache.get();
    api.answer('one');
    await warm;
    const bad = cache.get();
    api.answerBody({ devices: 'all' });
    expect(await bad).toMatchObject({ devices: [{ name: 'one' }], staleAgeSeconds: 0 });
  });
});
