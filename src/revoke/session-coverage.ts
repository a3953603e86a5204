import type { Config } from '../config-types';

/**
 * The longest any session can hold working credentials: a refreshable session plus its last credential. A
 * revocation entry, or a revoked-before cut-off, may go once this long has passed since it was written.
 */
export function longestSessionSeconds(config: Pick<Config, 'sessions'>): number {
  return Math.max(config.sessions.maxDurationSeconds, config.sessions.maxSessionDurationSeconds + config.sessions.maxDurationSeconds);
}
