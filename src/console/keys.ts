/**
 * Redis keys of the console, with the prefix and braces convention of src/sessions/keys.ts and
 * src/revoke/keys.ts; its letters (w, o) are used by neither.
 *
 *   P{w:<state>}      string  one sign-in in flight: JSON {issuer, verifier, nonce, returnTo}; TTL 10 minutes,
 *                             deleted when the callback uses it (GETDEL), so a state works once
 *   P{o:<sha256(id)>} string  one console session: JSON {identity, csrf, expiresAt}; TTL the session's life.
 *                             Keyed by the hash of the cookie, so reading Redis does not give a usable cookie.
 */
import { createHash } from 'node:crypto';

export interface ConsoleKeys {
  signIn(state: string): string;
  session(cookieId: string): string;
}

export function consoleKeys(prefix: string): ConsoleKeys {
  if (/[{}]/.test(prefix)) throw new TypeError(`key prefix "${prefix}" must not contain "{" or "}"`);
  return {
    signIn: (state) => `${prefix}{w:${state}}`,
    session: (cookieId) => `${prefix}{o:${createHash('sha256').update(cookieId).digest('base64url')}}`,
  };
}
