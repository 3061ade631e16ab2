import { TooManyRequestsError, type FailureCounterStore } from '@marquee/service-kit';

export interface LoginThrottleLimits {
  maxPerUser: number;
  maxPerAddress: number;
  windowSeconds: number;
}

/**
 * Login throttling: failures are counted per username and per client address in a fixed window;
 * once either reaches its limit, further attempts get 429 with Retry-After until the window ends.
 */
export function createLoginThrottle(store: FailureCounterStore, limits: LoginThrottleLimits) {
  const userKey = (username: string) => `login:user:${username.toLowerCase()}`;
  const addressKey = (address: string) => `login:addr:${address}`;
  return {
    async assertAllowed(username: string, address: string) {
      const [user, addr] = await Promise.all([store.peek(userKey(username)), store.peek(addressKey(address))]);
      if (user.count >= limits.maxPerUser) {
        throw new TooManyRequestsError('Too many failed logins for this username; try again later.', user.resetInSeconds);
      }
      if (addr.count >= limits.maxPerAddress) {
        throw new TooManyRequestsError('Too many failed logins from this address; try again later.', addr.resetInSeconds);
      }
    },
    async recordFailure(username: string, address: string) {
      await Promise.all([
        store.increment(userKey(username), limits.windowSeconds),
        store.increment(addressKey(address), limits.windowSeconds),
      ]);
    },
    async recordSuccess(username: string) {
      await store.reset(userKey(username));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
