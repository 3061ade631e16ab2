import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '@marquee/service-kit';

export const usernameSchema = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'may contain letters, digits, "_", "." and "-", starting with a letter or digit');

export const signupBody = z.strictObject({
  username: usernameSchema,
  // The minimum and strength are judged by the password policy (422 with a specific message).
  password: z.string().max(PASSWORD_MAX_LENGTH),
  accountType: z.enum(['advertiser', 'operator']),
});

export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

export const refreshBody = z.strictObject({
  refreshToken: z.string().min(1).max(512),
});
