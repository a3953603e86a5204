/**
 * Identifiers shaped like AWS's: access key ids (`ASIA` + 16 base32 chars = 20), unique ids of roles and
 * users (`AROA`/`AIDA` + 17), 40-char secret keys, opaque session tokens, request ids.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomFrom(alphabet: string, length: number): string {
  // Rejection-free: alphabets here have 32, 36 or 64 symbols; modulo bias on 36 does not matter for test ids.
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A temporary-credential access key id: `ASIA` + 16 chars, 20 in all. */
export const newSessionAccessKeyId = (): string => `ASIA${randomFrom(BASE32, 16)}`;

/** A unique id such as a role's `AROA...` or a user's `AIDA...` (21 chars). */
export const newUniqueId = (prefix: 'AROA' | 'AIDA' | 'ANPA'): string => `${prefix}${randomFrom(ALNUM, 17)}`;

/** A 40-char secret access key. */
export const newSecretAccessKey = (): string => randomFrom(SECRET_CHARS, 40);

/** An opaque session token; only its exact value is meaningful. */
export const newSessionToken = (): string => `IQoJb3JpZ2luX2VjE${randomBytes(240).toString('base64')}`;

/** A request id as STS/IAM return in `x-amzn-RequestId`. */
export const newRequestId = (): string => randomUUID();
