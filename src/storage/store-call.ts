import type { ObservabilityPort } from '../ports';
import { ApiError } from '../errors';
import { StoreUnavailableError } from './redis-client';

/**
 * Runs one store operation for a use case; if Redis cannot answer, the request fails closed with 503 naming the
 * store that failed: a session the service cannot record or check is a session it must not issue or honour.
 */
export async function storeCall<T>(deps: ObservabilityPort, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    deps.metrics.redisErrors.inc({ op });
    deps.logger.warn({ op, store: err.store, err: (err.cause as Error | undefined)?.message ?? err.message }, `${err.store} unavailable`);
    throw new ApiError(503, 'store_unavailable', `the ${err.store} is unavailable; nothing was issued or changed`, {
      cause: err,
      retryAfter: 2,
      expose: true,
    });
  }
}
