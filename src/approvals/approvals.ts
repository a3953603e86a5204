import { randomInt } from 'node:crypto';
import type { Identity } from '../auth/identity';
import { projectKey } from '../auth/identity-key';
import type { components } from '../client/openapi-types';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { ApprovalsPort, ClockPort, ConfigPort, KillSwitchPort, ObservabilityPort, TemplatesPort } from '../ports';
import { storeCall } from '../storage/store-call';
import { authorizeTemplate } from '../templates/authorize';
import { renderPolicy } from '../templates/render-policy';
import type { LoadedTemplate } from '../templates/types';
import { vendCredentials, type VendPorts, type VendRequest, type VendResult } from '../vend/vend-credentials';
import type { ApprovalRecord, Decision } from './approval-store';
import { notifyWebhook, type WebhookPorts } from './webhook';

export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600;

/** Who acts on an approval: the API's Identity or the console's stored one (the same fields). */
export type Actor = Pick<Identity, 'issuer' | 'subject' | 'owner' | 'developer' | 'developerClaim' | 'groups'>;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newApprovalId = (): string => `a${Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}`;

/** What reading approvals uses: the approval store and a clock (a pending request past its deadline reads as expired). */
export type ReadApprovalPorts = ApprovalsPort & ClockPort & ObservabilityPort;
/** Deciding also reads the template's timeout, which sets how long an approved request can be collected. */
export type DecideApprovalPorts = ReadApprovalPorts & TemplatesPort;
/** Asking checks what a vend would check before recording (template, parameters, blocks), then announces it. */
export type RequestApprovalPorts = ReadApprovalPorts & TemplatesPort & KillSwitchPort & WebhookPorts & ConfigPort<'approvals'>;
/** Collecting runs the vend itself. */
export type CollectApprovalPorts = ReadApprovalPorts & VendPorts;

/** The template's approval rule when it requires one. */
export function approvalRule(template: LoadedTemplate | undefined): LoadedTemplate['approval'] | undefined {
  return template?.approval?.required ? template.approval : undefined;
}

/** Whether `actor` may decide this request: in an approver group, and not the requester. */
export function mayApprove(rec: ApprovalRecord, actor: Actor): boolean {
  return actor.groups.some((g) => rec.approverGroups.includes(g)) && !isRequester(rec, actor);
}

/** The requester is the same person (developer key) or the same owner at the same issuer. */
export function isRequester(rec: ApprovalRecord, actor: Actor): boolean {
  return actor.developer === rec.requester.developer || (actor.issuer === rec.requester.issuer && actor.owner === rec.requester.owner);
}

/**
 * A vend of a template that requires approval: everything a vend would check before recording (the template
 * allows the caller, the parameters render) is checked now, so an approver never sees a request that could not
 * be issued; then the request is recorded, audited, and announced to the webhook. Nothing is issued.
 */
export async function requestApproval(deps: RequestApprovalPorts, identity: Identity, req: VendRequest & { reason?: string }, requestId: string): Promise<ApprovalRecord> {
  const template = deps.templates.get(req.template)!;
  const rule = approvalRule(template)!;
  const base = { event: 'approval.request' as const, requestId, issuer: identity.issuer, subject: identity.subject, developer: identity.developer, template: req.template };
  try {
    const project = projectKey(authorizeTemplate(template, identity, req.project).project);
    const rendered = renderPolicy(template, req.parameters ?? {}, { developer: identity.developer, project });
    // A blocked scope is refused now, not after an approver spent time on a request that cannot be collected.
    const block = await storeCall(deps, 'blockFor', () => deps.killSwitch.blockFor({ developer: identity.developer, project, template: template.name }));
    if (block) {
      const seconds = Math.max(1, Math.ceil((block.until.getTime() - deps.now().getTime()) / 1000));
      throw new ApiError(403, 'blocked', `an operator has blocked new vends for ${block.selector.kind === 'all' ? 'all vends' : `this ${block.selector.kind}`}; retry after ${seconds} s`, { retryAfter: seconds });
    }
    const now = deps.now();
    const timeout = rule.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
    const rec: ApprovalRecord = {
      approvalId: newApprovalId(),
      state: 'pending',
      requester: { issuer: identity.issuer, subject: identity.subject, owner: identity.owner, developer: identity.developer, developerClaim: identity.developerClaim, accessType: identity.accessType },
      template: template.name,
      roleArn: template.roleArn,
      request: {
        template: req.template,
        parameters: req.parameters ?? {},
        ...(req.project !== undefined ? { project: req.project } : {}),
        ...(req.durationSeconds !== undefined ? { durationSeconds: req.durationSeconds } : {}),
        ...(req.delivery !== undefined ? { delivery: req.delivery } : {}),
        ...(req.sessionDurationSeconds !== undefined ? { sessionDurationSeconds: req.sessionDurationSeconds } : {}),
      },
      project,
      policy: rendered.policy,
      reason: req.reason ?? '',
      approverGroups: rule.approvers.groups,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + timeout * 1000).toISOString(),
    };
    const max = deps.config.approvals.maxPendingPerDeveloper;
    if (!(await storeCall(deps, 'approvals.create', () => deps.approvals.create(rec, max)))) {
      throw new ApiError(429, 'too_many_approvals', `this developer already has ${max} approval requests waiting; wait for a decision`, { retryAfter: 30 });
    }
    audit(deps.logger, { ...base, outcome: 'pending', approvalId: rec.approvalId, project, parameters: rec.request.parameters, reason: rec.reason, expiresAt: rec.expiresAt });
    void notifyWebhook(deps, rec);
    return rec;
  } catch (err) {
    audit(deps.logger, { ...base, outcome: err instanceof ApiError && err.status < 500 ? 'refused' : 'error', code: err instanceof ApiError ? err.code : 'internal_error', parameters: req.parameters });
    throw err;
  }
}

/** Reads one approval for `actor`: its requester or one of its approvers; anyone else learns nothing. */
export async function readApproval(deps: ReadApprovalPorts, actor: Actor, id: string): Promise<ApprovalRecord> {
  const rec = await storeCall(deps, 'approvals.get', () => deps.approvals.get(id, deps.now()));
  if (!rec || !(isRequester(rec, actor) || actor.groups.some((g) => rec.approverGroups.includes(g)))) {
    throw new ApiError(404, 'approval_not_found', 'no such approval');
  }
  return rec;
}

/** Approvals `actor` may see (as requester or approver), newest first. */
export async function listApprovals(deps: ReadApprovalPorts, actor: Actor, state?: string): Promise<ApprovalRecord[]> {
  const all = await storeCall(deps, 'approvals.list', () => deps.approvals.list(deps.now()));
  return all.filter((r) => (isRequester(r, actor) || actor.groups.some((g) => r.approverGroups.includes(g))) && (state === undefined || r.state === state));
}

/** An approver's decision: approved or denied with a reason; only a pending request, never one's own. */
export async function decideApproval(deps: DecideApprovalPorts, actor: Actor, id: string, outcome: Decision['outcome'], reason: string, requestId: string): Promise<ApprovalRecord> {
  const base = { event: outcome === 'approved' ? ('approval.approve' as const) : ('approval.deny' as const), requestId, issuer: actor.issuer, subject: actor.subject, developer: actor.developer, approvalId: id, reason };
  try {
    const rec = await readApproval(deps, actor, id);
    if (isRequester(rec, actor)) throw new ApiError(403, 'self_approval', 'nobody approves their own request');
    if (!mayApprove(rec, actor)) throw new ApiError(403, 'not_an_approver', `only members of ${rec.approverGroups.join(', ')} decide this request`);
    if (rec.state !== 'pending') throw new ApiError(409, `approval_${rec.state}`, `the request is ${rec.state}, not pending`);
    const now = deps.now();
    const decision: Decision = { outcome, by: actor.developer, byClaim: actor.developerClaim, issuer: actor.issuer, reason, at: now.toISOString() };
    const timeout = deps.templates.get(rec.template)?.approval?.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
    const collectBy = new Date(now.getTime() + timeout * 1000).toISOString();
    const moved = await storeCall(deps, 'approvals.decide', () =>
      deps.approvals.transition(id, 'pending', outcome, { decision: JSON.stringify(decision), ...(outcome === 'approved' ? { collectBy } : {}) }),
    );
    if (!moved) throw new ApiError(409, 'approval_decided', 'the request was decided meanwhile');
    await deps.approvals.release(rec.requester.developer, id).catch(() => undefined);
    audit(deps.logger, { ...base, outcome, template: rec.template, requester: rec.requester.developer });
    return { ...rec, state: outcome, decision, ...(outcome === 'approved' ? { collectBy } : {}) };
  } catch (err) {
    audit(deps.logger, { ...base, outcome: 'refused', code: err instanceof ApiError ? err.code : 'internal_error' });
    throw err;
  }
}

/**
 * The requester collects an approved request with a fresh token: the vend runs now, as that identity (the
 * template must still allow it, blocks and limits apply), once. A vend that fails leaves the approval
 * collectable again.
 */
export async function collectApproval(deps: CollectApprovalPorts, identity: Identity, id: string, requestId: string): Promise<{ approval: ApprovalRecord; result: VendResult }> {
  const base = { event: 'approval.collect' as const, requestId, issuer: identity.issuer, subject: identity.subject, developer: identity.developer, approvalId: id };
  const rec = await storeCall(deps, 'approvals.get', () => deps.approvals.get(id, deps.now()));
  if (!rec || rec.requester.issuer !== identity.issuer || rec.requester.owner !== identity.owner || rec.requester.developer !== identity.developer) {
    audit(deps.logger, { ...base, outcome: 'refused', code: 'approval_not_found' });
    throw new ApiError(404, 'approval_not_found', 'no such approval');
  }
  if (rec.state !== 'approved') {
    audit(deps.logger, { ...base, outcome: 'refused', code: `approval_${rec.state}` });
    const retry = rec.state === 'pending' ? { retryAfter: 2 } : {};
    throw new ApiError(409, `approval_${rec.state}`, `the request is ${rec.state}${rec.state === 'pending' ? '; ask again once it is approved' : ''}`, { ...retry, details: { state: rec.state } });
  }
  const store = deps.approvals;
  if (!(await storeCall(deps, 'approvals.collect', () => store.transition(id, 'approved', 'collected')))) {
    throw new ApiError(409, 'approval_collected', 'the request was collected meanwhile');
  }
  try {
    const result = await vendCredentials(deps, identity, rec.request, requestId, { approvalId: id });
    await store.setSession(id, result.session.id).catch(() => undefined);
    audit(deps.logger, { ...base, outcome: 'allowed', template: rec.template, sessionId: result.session.id, approvedBy: rec.decision?.by });
    return { approval: { ...rec, state: 'collected', sessionId: result.session.id }, result };
  } catch (err) {
    await store.transition(id, 'collected', 'approved').catch(() => undefined);
    audit(deps.logger, { ...base, outcome: 'refused', code: err instanceof ApiError ? err.code : 'internal_error' });
    throw err;
  }
}

/** The JSON an approval is shown as (the API's Approval schema). */
export function approvalBody(rec: ApprovalRecord): components['schemas']['Approval'] {
  return {
    ...rec,
    links: { self: `/v1/approvals/${rec.approvalId}`, collect: `/v1/approvals/${rec.approvalId}/collect` },
  };
}
