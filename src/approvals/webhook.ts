import type { ConfigPort, ObservabilityPort } from '../ports';
import type { ApprovalRecord } from './approval-store';

/** What announcing a request uses: where the webhook is, how long to wait, the console's public origin. */
export type WebhookPorts = ObservabilityPort & ConfigPort<'approvals' | 'server'>;

/** Slack's mrkdwn escapes (&, <, >): an agent's reason cannot mention @channel or make a link. */
const slackText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The webhook body: a Slack-compatible `text` and the request's fields for any other receiver. */
export function webhookPayload(rec: ApprovalRecord, consoleUrl?: string): Record<string, unknown> {
  const who = rec.requester.developerClaim === rec.requester.developer ? rec.requester.developer : `${rec.requester.developerClaim} (${rec.requester.developer})`;
  const text =
    `sts-vend: ${slackText(who)} asks for template ${slackText(rec.template)} on project ${slackText(rec.project)}` +
    `${rec.reason ? `: "${slackText(rec.reason)}"` : ''}. Approval ${rec.approvalId}, expires ${rec.expiresAt}.` +
    (consoleUrl ? ` ${consoleUrl}/console/approvals/${rec.approvalId}` : '');
  return {
    text,
    event: 'approval.request',
    approvalId: rec.approvalId,
    template: rec.template,
    project: rec.project,
    developer: rec.requester.developer,
    developerClaim: rec.requester.developerClaim,
    parameters: rec.request.parameters,
    reason: rec.reason,
    approverGroups: rec.approverGroups,
    createdAt: rec.createdAt,
    expiresAt: rec.expiresAt,
  };
}

/**
 * Tells the configured webhook of a new request; never throws and never holds up the vend (a webhook that is
 * down only costs the notification, logged as a warning).
 */
export async function notifyWebhook(deps: WebhookPorts, rec: ApprovalRecord): Promise<void> {
  const url = deps.config.approvals.webhookUrl;
  if (!url) return;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookPayload(rec, deps.config.server.publicUrl)),
      signal: AbortSignal.timeout(deps.config.approvals.webhookTimeoutMs),
      redirect: 'error',
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) deps.logger.warn({ approvalId: rec.approvalId, status: res.status }, 'approval webhook refused the notification');
  } catch (err) {
    deps.logger.warn({ approvalId: rec.approvalId, err: (err as Error).message }, 'approval webhook unreachable');
  }
}
