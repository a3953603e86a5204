import type { ApiErrorCode, ConsoleErrorCode, ContainerErrorCode } from './error-codes';

/**
 * One error type for everything the API answers. `code` is one of the closed list in error-codes.ts (stable,
 * and the enum in openapi.yaml);
 * `expose` decides whether `message` reaches the caller (client errors) or is replaced by a generic
 * text (server errors, whose cause is logged instead).
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode | ContainerErrorCode | ConsoleErrorCode;
  readonly status: number;
  readonly expose: boolean;
  /** Seconds a client should wait before retrying (429, 503). */
  readonly retryAfter?: number;
  /** Extra machine-readable detail for client errors (e.g. the failing field path). */
  readonly details?: Record<string, unknown>;

  constructor(
    status: number,
    code: ApiErrorCode | ContainerErrorCode | ConsoleErrorCode,
    message: string,
    opts: { cause?: unknown; retryAfter?: number; details?: Record<string, unknown>; expose?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.expose = opts.expose ?? status < 500;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
    if (opts.details !== undefined) this.details = opts.details;
  }
}

export const isApiError = (err: unknown): err is ApiError => err instanceof ApiError;
