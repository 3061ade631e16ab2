import { TooManyRequestsError, type CredentialCheck, type FailureCounterStore } from '@marquee/service-kit';

export interface CredentialThrottleLimits {
  /** Wrong secrets in a row for one display before further checks are refused (429). */
  maxFailures: number;
  windowSeconds: number;
}

export const DEFAULT_CREDENTIAL_THROTTLE: CredentialThrottleLimits = { maxFailures: 10, windowSeconds: 300 };

/**
 * Guessing one display's secret: after `maxFailures` wrong secrets within the window its checks
 * answer 429 without looking at the secret, until the window lapses; a right secret clears the count.
 */
export function createCredentialThrottle(store: FailureCounterStore, limits: CredentialThrottleLimits = DEFAULT_CREDENTIAL_THROTTLE) {
  return async function throttled(displayId: string, verify: () => Promise<CredentialCheck>): Promise<CredentialCheck> {
    const key = `display-secret:${displayId}`;
    const seen = await store.peek(key);
    if (seen.count >= limits.maxFailures) {
      throw new TooManyRequestsError('Too many wrong secrets for this display; try again later.', seen.resetInSeconds);
    }
    const verdict = await verify();
    if (verdict.ok) {
      if (seen.count > 0) await store.reset(key);
    } else if (verdict.code === 'bad_secret') {
      await store.increment(key, limits.windowSeconds);
    }
    return verdict;
  };
}
