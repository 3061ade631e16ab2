import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, createTokenVerifier, type Jwks } from '../src/index.ts';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = (kid: string): Jwks => ({ keys: [{ ...createPublicKey(privateKey).export({ format: 'jwk' }), kid }] });
const sign = (kid: string, expiresIn: number) =>
  jwt.sign({ username: 'ann', role: 'advertiser' }, privateKey, { algorithm: 'ES256', keyid: kid, subject: 'u1', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, expiresIn });

describe('token verifier cache', () => {
  it('serves a verified token from cache until its exp, then refuses it', async () => {
    let clock = Date.now();
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks('k1'), now: () => clock });
    const token = sign('k1', 60);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u1', role: 'advertiser' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u1' });
    clock += 61_000;
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it('stops accepting cached tokens whose key was rotated out of the JWKS', async () => {
    let clock = Date.now();
    let current = 'k1';
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks(current), now: () => clock, minRefetchMs: 1_000 });
    const old = sign('k1', 3_600);
    await expect(verifier.verify(old)).resolves.toBeTruthy();
    current = 'k2';
    clock += 2_000;
    await expect(verifier.verify(sign('k2', 3_600))).resolves.toBeTruthy(); // unknown kid -> refetch -> k1 gone
    await expect(verifier.verify(old)).rejects.toThrow(/unknown key/);
  });

  it('refetches keys older than maxAgeMs: a key dropped from the JWKS is refused from exactly then on, cached tokens too', async () => {
    let clock = Date.now();
    let published = ['k1', 'k2'];
    let fetches = 0;
    const verifier = createTokenVerifier({
      fetchJwks: async () => {
        fetches++;
        return { keys: published.flatMap((kid) => jwks(kid).keys) };
      },
      now: () => clock,
      maxAgeMs: 60_000,
      minRefetchMs: 1_000,
    });
    const retired = sign('k1', 3_600);
    const current = sign('k2', 3_600);
    await expect(verifier.verify(retired)).resolves.toBeTruthy();
    await expect(verifier.verify(current)).resolves.toBeTruthy();
    published = ['k2']; // k1 dropped at the account service
    clock += 59_999;
    await expect(verifier.verify(retired)).resolves.toBeTruthy(); // the keys are not that old yet
    expect(fetches).toBe(1);
    clock += 1;
    await expect(verifier.verify(retired)).rejects.toThrow(/unknown key/);
    expect(fetches).toBe(2);
    await expect(verifier.verify(current)).resolves.toBeTruthy();
  });

  it('keeps the keys it has while a refresh fails, retrying every minRefetchMs', async () => {
    let clock = Date.now();
    let reachable = true;
    let fetches = 0;
    const verifier = createTokenVerifier({
      fetchJwks: async () => {
        fetches++;
        if (!reachable) throw new Error('account service unreachable');
        return jwks('k1');
      },
      now: () => clock,
      maxAgeMs: 60_000,
      minRefetchMs: 5_000,
    });
    const token = sign('k1', 3_600);
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    reachable = false;
    clock += 60_000;
    await expect(verifier.verify(token)).resolves.toBeTruthy(); // refresh failed: the old keys serve
    await expect(verifier.verify(sign('k1', 1_800))).resolves.toBeTruthy();
    expect(fetches).toBe(2);
    clock += 4_999;
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    expect(fetches).toBe(2); // not retried before minRefetchMs
    clock += 1;
    reachable = true;
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    expect(fetches).toBe(3);
  });

  it('keeps at most cacheSize tokens, evicting the least recently used', async () => {
    // A cache hit skips the ES256 verification; counting verifications shows what is cached.
    const verifications = vi.spyOn(jwt, 'verify');
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks('k1'), cacheSize: 3 });
    const tokens = Array.from({ length: 5 }, (_, i) => sign('k1', 60 + i));
    const verify = async (token: string) => {
      const before = verifications.mock.calls.length;
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u1' });
      return verifications.mock.calls.length - before; // 1 = verified afresh, 0 = from cache
    };
    for (const t of tokens) expect(await verify(t)).toBe(1);
    // Cached: the last three. Using tokens[2] makes it the most recent, so tokens[3] goes next.
    expect(await verify(tokens[2]!)).toBe(0);
    expect(await verify(tokens[4]!)).toBe(0);
    expect(await verify(tokens[0]!)).toBe(1); // evicted long ago; back in, evicting tokens[3]
    expect(await verify(tokens[3]!)).toBe(1);
    expect(await verify(tokens[2]!)).toBe(1); // evicted by tokens[3] coming back
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});
