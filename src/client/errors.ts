/**
 * The one error the client throws. `code` is the service's stable code (`unknown_template`,
 * `SessionRevoked`...) or one of the client's own: `unreachable` (no HTTP answer), `bad_response` (an answer
 * that is not the documented shape), `missing_token`. Messages never carry a token or a secret: they come
 * from the service's error body or name only the URL's origin.
 */
export class StsVendError extends Error {
  /** HTTP status, or 0 when no HTTP answer arrived. */
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  /** Seconds the service asked to wait before retrying (429, 503). */
  readonly retryAfter?: number;

  constructor(status: number, code: string, message: string, opts: { requestId?: string; retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StsVendError';
    this.status = status;
    this.code = code;
    if (opts.requestId !== undefined) this.requestId = opts.requestId;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }
}

export const isStsVendError = (err: unknown): err is StsVendError => err instanceof StsVendError;

/**
 * Builds the error for a non-2xx answer from its body: the API shape `{"error": {code, message, requestId}}`
 * or the container-credentials shape `{Code, Message}`; anything else becomes `http_<status>`.
 */
export function errorFromResponse(status: number, headers: { get(name: string): string | null }, bodyText: string): StsVendError {
  const retry = Number(headers.get('retry-after'));
  const opts = {
    requestId: headers.get('x-request-id') ?? undefined,
    retryAfter: Number.isInteger(retry) && retry > 0 ? retry : undefined,
  };
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const api = (body as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined)?.error;
  if (api && typeof api.code === 'string') {
    const requestId = typeof api.requestId === 'string' ? api.requestId : opts.requestId;
    return new StsVendError(status, api.code, typeof api.message === 'string' ? api.message : api.code, { ...opts, requestId });
  }
  const container = body as { Code?: unknown; Message?: unknown } | undefined;
  if (container && typeof container.Code === 'string') {
    return new StsVendError(status, container.Code, typeof container.Message === 'string' ? container.Message : container.Code, opts);
  }
  // An unknown body (a proxy's HTML page, say) is not echoed: it could be anything.
  return new StsVendError(status, `http_${status}`, `the service answered HTTP ${status}`, opts);
}
