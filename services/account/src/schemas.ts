import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';

export const usernameSchema = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'may contain letters, digits, "_", "." and "-", starting with a letter or digit');

export const signupBody = z.strictObject({
  username: usernameSchema,
  // Length and strength are judged by the password policy (422 with a specific message).
  password: z.string().max(MAX_PASSWORD_LENGTH * 4, 'is far too long'),
  accountType: z.enum(['advertiser', 'operator']),
});

export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH * 4),
});

export const refreshBody = z.strictObject({
  refreshToken: z.string().min(1).max(512),
});
