import { CatalogueAnswerSchema, DependencyUnavailableError, type CatalogueDisplay, type InternalClient, type RequestContext } from '@marquee/service-kit';

/** One v1 device: what api-v2's internal catalogue says about an active display, in v1 words. */
export interface V1Device {
  deviceid: string;
  name: string;
  location: string;
  online: boolean;
  price: number;
}

export interface CatalogueAnswer {
  devices: V1Device[];
  /** Seconds since the copy was fetched, when api-v2 could not be asked in time. */
  staleAgeSeconds?: number;
}

export interface CatalogueCacheOptions {
  apiV2Internal: InternalClient;
  /** With a last good copy in hand, wait at most this long for a fresh one before serving it. */
  staleAfterMs: number;
  onStale?: () => void;
  now?: () => number;
}

/**
 * The device list, fresh from api-v2 on every request while it answers, with the last good copy
 * kept for when it does not. Concurrent requests share one fetch. A fetch that outlives the
 * stale deadline keeps running and refreshes the copy for the next caller.
 */
export function createCatalogueCache(opts: CatalogueCacheOptions) {
  const now = opts.now ?? Date.now;
  let last: { devices: V1Device[]; fetchedAt: number } | undefined;
  let inflight: Promise<V1Device[]> | undefined;

  // A shared fetch carries the ids of the request that started it.
  const fetchFresh = (context: RequestContext | undefined) =>
    (inflight ??= (async () => {
      try {
        const res = await opts.apiV2Internal.request({ method: 'GET', path: '/internal/displays/catalogue', context });
        if (res.status !== 200) throw new DependencyUnavailableError(`api-v2's catalogue answered ${res.status}.`, 2);
        // Checked against the contract api-v2 serves it by: anything else is a failing dependency.
        const answer = CatalogueAnswerSchema.safeParse(res.body);
        if (!answer.success) throw new DependencyUnavailableError("api-v2's catalogue answered an unexpected body.", 2);
        const devices = answer.data.items.map(toV1Device);
        last = { devices, fetchedAt: now() };
        return devices;
      } finally {
        inflight = undefined;
      }
    })());

  return {
    /** `context`: the request being answered (its ids travel with the fetch it starts). */
    async get(context?: RequestContext): Promise<CatalogueAnswer> {
      const fresh = fetchFresh(context);
      const copy = last;
      if (!copy) return { devices: await fresh };
      fresh.catch(() => {}); // a failure after the deadline is only a missed refresh
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, opts.staleAfterMs, undefined)));
      try {
        const devices = await Promise.race([fresh.catch(() => undefined), deadline]);
        if (devices) return { devices };
      } finally {
        clearTimeout(timer);
      }
      opts.onStale?.();
      return { devices: copy.devices, staleAgeSeconds: Math.max(0, Math.floor((now() - copy.fetchedAt) / 1000)) };
    },
  };
}

function toV1Device(item: CatalogueDisplay): V1Device {
  return {
    deviceid: item.id,
    name: item.name,
    location: item.location.address,
    online: item.online,
    price: item.pricePerSlotHour,
  };
}
