/**
 * The bounds of a password, said once: the account service enforces them (its policy and its
 * request schemas), api-v2's /auth and api-v1's /signup and /login check and document them.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;
