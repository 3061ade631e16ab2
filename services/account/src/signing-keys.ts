import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ConfigError, TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, type AccessClaims, type Jwks } from '@marquee/service-kit';

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Current key first, then retired keys still accepted while their tokens live. */
  jwks: Jwks;
}

export function loadSigningKeys(privatePem: string, explicitKid?: string, extraJwksJson?: string): SigningKeys {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privatePem);
  } catch {
    throw new ConfigError('Invalid configuration:\n  JWT_PRIVATE_KEY: not a readable PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ConfigError('Invalid configuration:\n  JWT_PRIVATE_KEY: must be an EC P-256 key (ES256)');
  }
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = explicitKid ?? thumbprint(jwk);
  const keys: Jwks['keys'] = [{ ...jwk, kid, alg: TOKEN_ALGORITHM, use: 'sig' }];
  if (extraJwksJson) {
    let extra: Jwks;
    try {
      extra = JSON.parse(extraJwksJson) as Jwks;
    } catch {
      throw new ConfigError('Invalid configuration:\n  JWT_EXTRA_PUBLIC_KEYS: not valid JSON (expected a JWKS document)');
    }
    for (const key of extra.keys ?? []) if (key.kid && key.kid !== kid) keys.push({ ...key, alg: TOKEN_ALGORITHM, use: 'sig' });
  }
  return { kid, privateKey, publicKey, jwks: { keys } };
}

/** RFC 7638 JWK thumbprint of an EC public key. */
function thumbprint(jwk: { crv?: string; kty?: string; x?: string; y?: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function signAccessToken(keys: SigningKeys, claims: AccessClaims, ttlSeconds: number): string {
  return jwt.sign({ username: claims.username, role: claims.role }, keys.privateKey, {
    algorithm: TOKEN_ALGORITHM,
    keyid: keys.kid,
    subject: claims.sub,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    expiresIn: ttlSeconds,
  });
}
