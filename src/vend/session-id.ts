import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const SESSION_ID_LENGTH = 12;
export const SESSION_ID_PATTERN = /^[A-Za-z0-9]{12}$/;

/**
 * A session id: 12 base62 characters (~71 bits, unbiased by rejection sampling). Short on purpose: the kill
 * switch lists revoked ids inside one role's 10,240-character inline policy budget (docs/aws.md), so every
 * character saved is room for more revoked sessions (500 ids fit in ~7,500 characters).
 */
export function newSessionId(): string {
  let out = '';
  while (out.length < SESSION_ID_LENGTH) {
    for (const byte of randomBytes(16)) {
      if (byte < 248 && out.length < SESSION_ID_LENGTH) out += ALPHABET[byte % 62];
    }
  }
  return out;
}
