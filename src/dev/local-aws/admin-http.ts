/**
 * The emulator's unsigned admin paths (dev only; the server binds 127.0.0.1 by default):
 * `/_local-aws/faults` GET/PUT/DELETE, `/_local-aws/sessions` GET, `/_local-aws/authorize` POST.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultProblems } from './faults';
import type { RequestContext } from './policy-eval';
import type { Faults, LocalAwsAdmin } from './types';

export const ADMIN_PREFIX = '/_local-aws/';

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(status === 204 ? undefined : JSON.stringify(value));
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}

/** Answers one admin request. */
export function serveAdmin(req: IncomingMessage, res: ServerResponse, body: Buffer, admin: LocalAwsAdmin): void {
  const path = (req.url ?? '').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === `${ADMIN_PREFIX}faults`) {
    if (method === 'GET') return json(res, 200, admin.faults());
    if (method === 'DELETE') {
      admin.clearFaults();
      return json(res, 204, undefined);
    }
    if (method === 'PUT' || method === 'POST') {
      const value = parseJson(body);
      const problems = faultProblems(value);
      if (problems.length > 0) return json(res, 400, { error: 'invalid_faults', problems });
      admin.setFaults(value as Faults);
      return json(res, 200, admin.faults());
    }
  }
  if (path === `${ADMIN_PREFIX}sessions` && method === 'GET') return json(res, 200, admin.sessions());
  if (path === `${ADMIN_PREFIX}authorize` && method === 'POST') {
    const v = parseJson(body) as { accessKeyId?: unknown; action?: unknown; resource?: unknown; context?: unknown } | undefined;
    if (!v || typeof v.accessKeyId !== 'string' || typeof v.action !== 'string' || typeof v.resource !== 'string') {
      return json(res, 400, { error: 'invalid_request', problems: ['accessKeyId, action and resource must be strings'] });
    }
    const context = (typeof v.context === 'object' && v.context !== null ? v.context : {}) as RequestContext;
    return json(res, 200, { decision: admin.authorize(v.accessKeyId, v.action, v.resource, context) });
  }
  return json(res, 404, { error: 'not_found' });
}
