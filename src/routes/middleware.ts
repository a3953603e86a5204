import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ParamsDictionary } from 'express-serve-static-core';
import { authError } from '../auth/auth-errors';
import { extractBearerToken } from '../auth/bearer';
import type { Identity } from '../auth/identity';
import type { paths } from '../client/openapi-types';
import { ApiError } from '../errors';
import { assertValid } from '../openapi';
import type { ObservabilityPort, OpenApiPort, VerifierPort } from '../ports';
import { findIllFormed } from '../well-formed';

/** Per-request state kept on res.locals, typed. */
export interface Locals {
  requestId: string;
  identity?: Identity;
}
export const locals = (res: Response): Locals => res.locals as Locals;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Takes a caller's X-Request-Id when it is a safe token (to join logs across hops), else makes one. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given && REQUEST_ID.test(given) ? given : randomUUID();
  locals(res).requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};

/**
 * Headers every answer carries: an API answers JSON that no browser should sniff, frame, cache or send on.
 * Routes that may be cached (none today) would set their own Cache-Control.
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * Refuses any string in the body or the query that is not well-formed Unicode (a lone surrogate from a JSON
 * `\ud800` escape) before a handler, Redis, Lua, IAM or a log line sees it.
 */
export const wellFormedText: RequestHandler = (req, _res, next) => {
  const where = findIllFormed(req.body, 'body') ?? findIllFormed({ ...(req.query as object) }, 'query');
  if (where !== undefined) {
    // The path may hold the caller's own object keys: name only its first segment, which is ours.
    const field = where.split('.').slice(0, 2).join('.');
    throw new ApiError(400, 'ill_formed_text', `${field}: is not well-formed Unicode (a lone UTF-16 surrogate)`, { details: { field } });
  }
  next();
};

/**
 * The one Authorization header of a request. Node keeps only the first of repeated Authorization headers, so two
 * of them (which a proxy and the service could read differently) are found in the distinct view and refused.
 */
export function authorizationHeader(req: Request): string | undefined {
  const all = req.headersDistinct.authorization;
  if (all && all.length > 1) throw authError('ambiguous_authorization');
  return all?.[0];
}

/** Verifies the bearer token; a refused token counts in sts_vend_auth_failures_total{code}. */
export function authenticate(deps: VerifierPort & ObservabilityPort): RequestHandler {
  return async (req, res, next) => {
    try {
      locals(res).identity = await deps.verifier.verify(extractBearerToken(authorizationHeader(req)));
      next();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) deps.metrics.authFailures.inc({ code: err.code });
      next(err);
    }
  };
}

/** An express route (`/v1/sessions/:id`) as openapi.yaml spells the path (`/v1/sessions/{id}`). */
type SpecPath<R extends string> = R extends `${infer Head}:${infer Name}/${infer Tail}`
  ? `${Head}{${Name}}/${SpecPath<Tail>}`
  : R extends `${infer Head}:${infer Name}`
    ? `${Head}{${Name}}`
    : R;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** The operation openapi.yaml declares for this method and route (never, so no handler compiles, when it has none). */
type OperationOf<M extends Method, R extends string> = SpecPath<R> extends keyof paths ? NonNullable<paths[SpecPath<R>][Lowercase<M> & keyof paths[SpecPath<R>]]> : never;
/** The JSON body the operation takes, as generated from openapi.yaml (src/client/openapi-types.ts). */
export type BodyOf<M extends Method, R extends string> = OperationOf<M, R> extends { requestBody: { content: { 'application/json': infer B } } } ? B : unknown;

/**
 * Validates the JSON body and path parameters against the operation in openapi.yaml. The handlers after it see
 * `req.body` as the body type generated from the same file (a route openapi.yaml lacks does not compile), so
 * routes read validated bodies without casts; test/unit/openapi-types.test.ts keeps the two files in step.
 */
export function validate<M extends Method, R extends string>(deps: OpenApiPort, method: M, route: R & (OperationOf<M, R> extends never ? never : R)): RequestHandler<ParamsDictionary, unknown, BodyOf<M, R>> {
  const op = deps.openapi.find(method, route);
  if (!op) throw new Error(`openapi.yaml has no ${method} ${route}`);
  return (req, _res, next) => {
    if (op.body) {
      if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'the body must be application/json');
      assertValid(op.body, req.body, 'body');
    }
    if (op.params) assertValid(op.params, req.params, 'path');
    if (op.query) assertValid(op.query, { ...(req.query as object) }, 'query');
    next();
  };
}

/** Reads a cursor-paginated page; a cursor this service did not issue is the caller's mistake, not a 500. */
export async function withCursor<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TypeError) throw new ApiError(400, 'invalid_request', 'query.cursor: is not a cursor this service issued', { cause: err });
    throw err;
  }
}

/** The one place errors become responses: client errors say why, server errors say little. */
export function errorHandler(deps: ObservabilityPort) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = locals(res).requestId ?? 'unknown';
    const apiError = toApiError(err);
    if (apiError.status >= 500) {
      deps.logger.error({ requestId, code: apiError.code, err: describeCause(err) }, 'request failed');
    }
    if (apiError.retryAfter !== undefined) res.setHeader('Retry-After', String(apiError.retryAfter));
    const message = apiError.expose ? apiError.message : 'internal error';
    const body: { code: string; message: string; requestId: string; details?: Record<string, unknown> } = { code: apiError.code, message, requestId };
    if (apiError.expose && apiError.details) body.details = apiError.details;
    res.status(apiError.status).json({ error: body });
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number };
  // express.json() errors: body-parser sets `type`.
  if (e?.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'the request body is too large');
  if (e?.type === 'entity.parse.failed') return new ApiError(400, 'malformed_json', 'the request body is not valid JSON');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(415, 'unsupported_media_type', 'the body must be UTF-8 JSON');
  }
  return new ApiError(500, 'internal_error', 'internal error', { cause: err });
}

/** Logs the cause chain's names and messages only: AWS and Redis errors do not carry secrets, request objects might. */
function describeCause(err: unknown): Record<string, unknown> {
  const chain: Array<{ name?: string; message?: string }> = [];
  let cur: unknown = err;
  for (let i = 0; cur && i < 4; i++) {
    const c = cur as { name?: string; message?: string; cause?: unknown };
    chain.push({ name: c.name, message: c.message });
    cur = c.cause;
  }
  return { chain, stack: (err as Error)?.stack?.split('\n').slice(0, 6).join('\n') };
}
