import type { RequestHandler, Response } from 'express';
import { isOperator } from '../auth/operator';
import type { components } from '../client/openapi-types';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { ConfigPort, ObservabilityPort, OpenApiPort, VerifierPort } from '../ports';
import type { RevocationRecord } from '../storage/kill-switch-store';
import { PROPAGATION_NOTE } from '../revoke/revoke-sessions';
import { locals } from './middleware';

/** What several routes check and answer alike; routes import this, never each other. */

/** What every authenticated route uses besides its use case: the verifier, the contract, logs and metrics. */
export type RoutePorts = VerifierPort & OpenApiPort & ObservabilityPort;

/** Everyone but operators gets 403 on these routes (issue: operators are identities matching `operators`). */
export function operatorOnly(deps: ConfigPort<'operators'>): RequestHandler {
  return (_req, res, next) => {
    if (!isOperator(locals(res).identity!, deps.config.operators)) {
      throw new ApiError(403, 'operator_only', 'this route is for operators');
    }
    next();
  };
}

/** Operator reads are audited too: who looked at what. */
export function auditRead(deps: ObservabilityPort, res: Response, what: string, query: Record<string, unknown> = {}): void {
  const { identity, requestId } = locals(res);
  audit(deps.logger, { event: 'operator.read', outcome: 'allowed', requestId, issuer: identity!.issuer, subject: identity!.subject, developer: identity!.developer, what, query });
}

/** A revocation as the API answers it; typed as openapi.yaml's Revocation, so a record field the contract lacks does not compile. */
export const revocationBody = (r: RevocationRecord): components['schemas']['Revocation'] => ({ ...r, note: PROPAGATION_NOTE });

