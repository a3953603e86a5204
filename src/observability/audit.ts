import type { Logger } from 'pino';

/** One audit event: enough to join with CloudTrail (role session name, source identity, session id). Never a secret. */
export interface AuditEvent {
  event:
    | 'vend'
    | 'refresh'
    | 'revoke'
    | 'session.end'
    | 'block.lift'
    | 'operator.read'
    | 'gateway.call'
    | 'gateway.connect'
    | 'approval.request'
    | 'approval.approve'
    | 'approval.deny'
    | 'approval.collect'
    | 'console.sign-in'
    | 'console.sign-out';
  outcome: 'allowed' | 'refused' | 'error' | 'applied' | 'pending' | 'approved' | 'denied';
  requestId: string;
  code?: string;
  issuer?: string;
  subject?: string;
  developer?: string;
  project?: string;
  accessType?: string;
  template?: string;
  parameters?: Record<string, unknown>;
  sessionId?: string;
  roleArn?: string;
  roleSessionName?: string;
  sourceIdentity?: string;
  accessKeyId?: string;
  expiresAt?: string;
  [key: string]: unknown;
}

/** Audit lines go through the same logger, marked `audit: true` so a log pipeline can route them. */
export function audit(logger: Logger, event: AuditEvent): void {
  logger.info({ audit: true, ...event }, `audit ${event.event} ${event.outcome}`);
}
