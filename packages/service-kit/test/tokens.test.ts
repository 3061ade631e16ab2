import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
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

  it('stays bounded', async () => {
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks('k1'), cacheSize: 3 });
    for (let i = 0; i < 10; i++) await verifier.verify(sign('k1', 60 + i));
    // Nothing to observe from outside but correctness: every token still verifies after eviction.
    await expect(verifier.verify(sign('k1', 60))).resolves.toBeTruthy();
  });
});
