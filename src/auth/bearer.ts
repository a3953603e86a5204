import { authError } from './auth-errors';

// RFC 6750 b64token: the characters a bearer token may contain.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Extracts the token from an `Authorization` header value: scheme `Bearer` (any case), one run of
 * spaces, exactly one token and nothing after it. No header, an empty one or a bare `Bearer` is `missing_token`;
 * anything else that is not that shape (another scheme, two tokens, odd characters) is `malformed_token`.
 */
export function extractBearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw authError('missing_token');
  const parts = header.trim().split(/ +/);
  if (parts.length === 1 && parts[0]?.toLowerCase() === 'bearer') throw authError('missing_token');
  if (parts.length !== 2) throw authError('malformed_token');
  const [scheme, token] = parts as [string, string];
  if (scheme.toLowerCase() !== 'bearer' || !B64TOKEN.test(token)) throw authError('malformed_token');
  return token;
}
