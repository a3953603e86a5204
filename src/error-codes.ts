import { AUTH_ERRORS, type AuthErrorCode } from './auth/auth-errors';

/**
 * Every error code the API answers in its envelope (`{"error": {"code", ...}}`), with the one status it is
 * answered with: the closed list openapi.yaml's `ErrorCode` enum mirrors (a test holds them equal, and holds
 * every `new ApiError(status, code, ...)` in src/ to this table). Authentication codes come from auth-errors.ts.
 */
export const API_ERROR_STATUS = {
  invalid_request: 400,
  malformed_json: 400,
  delivery_unavailable: 400,
  ill_formed_text: 400,
  invalid_developer: 400,
  invalid_parameters: 400,
  invalid_identity: 400,
  project_required: 400,
  packed_policy_too_large: 400,
  aws_limit_exceeded: 400,
  ...(Object.fromEntries(Object.entries(AUTH_ERRORS).map(([code, e]) => [code, e.status])) as Record<AuthErrorCode, 401 | 503>),
  template_forbidden: 403,
  project_not_allowed: 403,
  project_mismatch: 403,
  operator_only: 403,
  blocked: 403,
  session_revoked: 403,
  approval_required: 403,
  self_approval: 403,
  not_an_approver: 403,
  // Proxy mode's answer to a CONNECT (or absolute-form request) for a destination it does not serve.
  destination_not_allowed: 403,
  unknown_template: 404,
  session_not_found: 404,
  revocation_not_found: 404,
  approval_not_found: 404,
  not_found: 404,
  no_block: 409,
  template_removed: 409,
  approval_pending: 409,
  approval_approved: 409,
  approval_denied: 409,
  approval_expired: 409,
  approval_collected: 409,
  approval_decided: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_sessions: 429,
  too_many_approvals: 429,
  // A template that renders something its load-time lint ruled out: a bug, not the caller's doing.
  internal_error: 500,
  policy_invalid: 500,
  policy_too_large: 500,
  assume_role_denied: 502,
  aws_credentials_invalid: 502,
  aws_region_disabled: 502,
  aws_bad_response: 502,
  aws_error: 502,
  store_unavailable: 503,
  revocation_incomplete: 503,
  aws_throttled: 503,
  aws_unavailable: 503,
} as const;

/**
 * The container credentials routes answer in the SDK provider's shape (`{"Code", "Message"}`), with codes of
 * that vocabulary (src/routes/credentials.ts).
 */
export const CONTAINER_ERROR_STATUS = {
  InvalidToken: 401,
  SessionNotFound: 404,
  SessionRevoked: 403,
  SessionBlocked: 403,
  SessionExpired: 403,
  InternalError: 500,
} as const;

/** The operator console's own refusals, rendered as pages (src/console/), never in the API envelope. */
export const CONSOLE_ERROR_STATUS = {
  not_signed_in: 401,
  sign_in_failed: 401,
  csrf: 403,
  issuer_unavailable: 502,
  issuer_unsupported: 502,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;
export type ContainerErrorCode = keyof typeof CONTAINER_ERROR_STATUS;
export type ConsoleErrorCode = keyof typeof CONSOLE_ERROR_STATUS;
