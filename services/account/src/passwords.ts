import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@marquee/service-kit';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

// N=2^15 costs ~50-100 ms here: slow for guessing, fine for a login.
const PARAMS = { N: 32768, r: 8, p: 1, keylen: 32 };
const MAXMEM = 64 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash`, each binary part base64url: parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, PARAMS.keylen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: MAXMEM });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, hashText] = stored.split('$');
  if (scheme !== 'scrypt' || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, 'base64url');
  const actual = await scrypt(password, Buffer.from(saltText, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAXMEM,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Checked against when the user does not exist, so both failures cost the same time. */
export const DUMMY_HASH_PROMISE = hashPassword(randomBytes(16).toString('hex'));

const COMMON_PASSWORDS = new Set([
  'password', 'password1', 'password123', '12345678', '123456789', '1234567890', 'qwertyuiop',
  'qwerty123', '11111111', '00000000', 'iloveyou', 'sunshine', 'princess', 'football', 'baseball',
  'welcome1', 'abc12345', 'letmein1', 'trustno1', 'superman', 'starwars', 'passw0rd', 'admin123',
  'administrator', 'changeme', 'marquee1', 'marquee123', 'qwertyui', 'asdfghjk', 'zaq12wsx',
  '1q2w3e4r', '1qaz2wsx', 'monkey123', 'dragon123', 'master123',
]);

/** Returns why a password is refused, or null if it is acceptable. */
export function passwordWeakness(password: string, username: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`;
  if (password.toLowerCase() === username.toLowerCase()) return 'Password must not be the same as the username.';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'Password is too common; choose one that is not on lists of popular passwords.';
  return null;
}
