import type { ApprovalRecord } from '../approvals/approval-store';
import type { RevocationRecord, RoleState } from '../storage/kill-switch-store';
import type { SessionRecord } from '../storage/session-store';
import type { ConsoleSession } from './console-store';
import { html, pretty, q, type SafeHtml } from './html';

/** The pages of the console: functions of data to escaped markup; no I/O, no inline script or style. */

export interface Page {
  title: string;
  session?: ConsoleSession;
  body: SafeHtml;
}

export function layout(p: Page): string {
  const who = p.session?.identity;
  const nav = who
    ? html`<nav><a href="/console">Sessions</a> <a href="/console/revoke">Revoke</a> <a href="/console/revocations">Revocations and blocks</a> <a href="/console/approvals">Approvals</a>
<form method="post" action="/console/logout" class="inline"><input type="hidden" name="_csrf" value="${p.session!.csrf}"><span class="who">${who.developerClaim} (${who.issuer})</span> <button type="submit" id="sign-out">Sign out</button></form></nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · sts-vend console</title><link rel="stylesheet" href="/console/static/console.css"><script src="/console/static/console.js" defer></script></head>
<body><header><strong>sts-vend console</strong> ${nav}</header><main><h1>${p.title}</h1>${p.body}</main></body></html>`.toString();
}

const csrfField = (s: ConsoleSession) => html`<input type="hidden" name="_csrf" value="${s.csrf}">`;
const when = (iso: string | undefined) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html`-`);
const countdown = (iso: string) => html`<span class="countdown" data-expires="${iso}">${iso}</span>`;
const developer = (key: string, claim: string) => (key === claim ? html`${key}` : html`${claim} <small>(${key})</small>`);
export const deliveryOf = (s: SessionRecord): string => (s as SessionRecord & { delivery?: string }).delivery ?? (s.sessionEndsAt ? 'container' : 'credentials');
const roleState = (r: RoleState): string => (r.state === 'applied' && r.compacted ? 'compacted' : r.state);

export function signInPage(issuers: string[], message?: string): Page {
  return {
    title: 'Sign in',
    body: html`${message ? html`<p class="error">${message}</p>` : ''}<p>Operators sign in with a configured identity provider.</p>
<ul class="issuers">${issuers.map((name) => html`<li><a class="button" id="sign-in-${name}" href="/console/login?issuer=${q(name)}">Sign in with ${name}</a></li>`)}</ul>`,
  };
}

export function refusalPage(who: string, why: string): Page {
  return { title: 'Not an operator', body: html`<p class="error" id="refused">${who}: ${why}</p><p>The console is for operators only (the <code>operators</code> setting). <a href="/console">Sign in as someone else</a>.</p>` };
}

export function errorPage(status: number, code: string, message: string): Page {
  return { title: `Error ${status}`, body: html`<p class="error"><code>${code}</code>: ${message}</p><p><a href="/console">Back to the console</a></p>` };
}

export interface SessionsView {
  filter: Record<string, string>;
  sessions: SessionRecord[];
  truncated: boolean;
}

export function sessionsPage(s: ConsoleSession, v: SessionsView): Page {
  const f = (name: string, label: string) => html`<label>${label} <input name="${name}" value="${v.filter[name] ?? ''}"></label> `;
  const totals = (key: (x: SessionRecord) => string) => {
    const m = new Map<string, number>();
    for (const x of v.sessions) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };
  const totalTable = (title: string, id: string, rows: Array<[string, number]>) =>
    html`<table class="totals" id="${id}"><caption>${title}</caption><tbody>${rows.map(([k, n]) => html`<tr><td>${k}</td><td>${n}</td></tr>`)}</tbody></table>`;
  return {
    title: 'Live sessions',
    session: s,
    body: html`<form method="get" action="/console" class="filters">${f('developer', 'Developer')}${f('project', 'Project')}${f('template', 'Template')}${f('role', 'Role ARN')}${f('accessType', 'Access type')}${f('delivery', 'Delivery')}<button type="submit">Filter</button> <a href="/console">Clear</a></form>
<p id="count">${v.sessions.length} live session${v.sessions.length === 1 ? '' : 's'}${v.truncated ? ' (first page only; narrow the filter)' : ''}.</p>
<div class="totals-row">${totalTable('Per project', 'totals-project', totals((x) => x.project))}${totalTable('Per template', 'totals-template', totals((x) => x.template))}</div>
<table id="sessions"><thead><tr><th>Session</th><th>Developer</th><th>Project</th><th>Template</th><th>Role</th><th>Access</th><th>Delivery</th><th>State</th><th>Expires in</th><th></th></tr></thead><tbody>
${v.sessions.map(
  (x) => html`<tr data-session="${x.id}"><td><a href="/console/sessions/${q(x.id)}">${x.id}</a></td><td>${developer(x.developer, x.developerClaim)}</td><td>${x.project}</td><td>${x.template}</td><td class="arn">${x.roleArn}</td><td>${x.accessType}</td><td>${deliveryOf(x)}</td><td>${x.state}</td><td>${countdown(x.sessionEndsAt ?? x.expiresAt)}</td>
<td class="actions"><form method="post" action="/console/sessions/${q(x.id)}/revoke" class="inline">${csrfField(s)}<button type="submit" class="danger">Revoke</button></form> <a href="/console/revoke?kind=developer&amp;value=${q(x.developer)}" title="revoke every session of this developer">all of theirs…</a></td></tr>`,
)}
</tbody></table>`,
  };
}

export interface SessionView {
  rec: SessionRecord;
  tags: Record<string, string>;
  policy?: unknown;
  policyError?: string;
  calls?: ReadonlyArray<object>;
}

export function sessionPage(s: ConsoleSession, v: SessionView): Page {
  const r = v.rec;
  const row = (k: string, value: SafeHtml | string | undefined) => html`<tr><th>${k}</th><td>${value ?? '-'}</td></tr>`;
  const delivery = deliveryOf(r);
  const active = r.state === 'live' || r.state === 'pending';
  return {
    title: `Session ${r.id}`,
    session: s,
    body: html`<table class="facts" id="session">
${row('State', r.state)}${row('Developer', developer(r.developer, r.developerClaim))}${row('Issuer / subject', `${r.issuer} / ${r.subject}`)}${row('Project', r.project)}${row('Access type', r.accessType)}
${row('Template', r.template)}${row('Role', r.roleArn)}${row('Assumed role', r.assumedRoleArn)}${row('Role session name', r.roleSessionName)}${row('SourceIdentity', r.sourceIdentity)}
${row('Delivery', delivery)}${row('Access key id', r.accessKeyId)}${row('Created', when(r.createdAt))}${row('Issued', when(r.issuedAt))}${row('Expires', html`${when(r.expiresAt)} (${countdown(r.expiresAt)})`)}
${r.sessionEndsAt ? html`${row('Refreshes until', html`${when(r.sessionEndsAt)} (${countdown(r.sessionEndsAt)})`)}${row('Each refresh issues', `${r.credentialSeconds ?? '-'} s credentials; the last was issued at ${r.issuedAt ?? '-'}`)}` : row('Refreshes', 'none (credentials delivery)')}
${r.revokedAt ? html`${row('Revoked', when(r.revokedAt))}${row('Revocation', html`<a href="/console/revocations/${q(r.revocationId ?? '')}">${r.revocationId}</a>`)}` : ''}${r.failure ? row('Failure', r.failure) : ''}
</table>
<h2>Parameters</h2><pre id="parameters">${pretty(r.parameters)}</pre>
<h2>Tags</h2><table class="facts" id="tags">${Object.entries(v.tags).map(([k, value]) => row(k, value))}</table>
<h2>Session policy</h2>${v.policy ? html`<pre id="policy">${pretty(v.policy)}</pre>` : html`<p>${v.policyError ?? 'not available'}</p>`}
${delivery === 'gateway' ? html`<h2>Recent AWS calls</h2>${v.calls && v.calls.length > 0 ? html`<table id="calls"><tbody>${v.calls.map((c) => html`<tr>${Object.values(c).map((value) => html`<td>${String(value)}</td>`)}</tr>`)}</tbody></table>` : html`<p>No calls recorded.</p>`}` : ''}
${active ? html`<form method="post" action="/console/sessions/${q(r.id)}/revoke">${csrfField(s)}<button type="submit" class="danger" id="revoke-session">Revoke this session</button></form>` : ''}`,
  };
}

export const KINDS = ['developer', 'project', 'template', 'all'] as const;

export function revokeForm(s: ConsoleSession, given: { kind?: string; value?: string; reason?: string }, error?: string): Page {
  return {
    title: 'Revoke',
    session: s,
    body: html`${error ? html`<p class="error">${error}</p>` : ''}<form method="post" action="/console/revoke/confirm" id="revoke-form">${csrfField(s)}
<p><label>Revoke every session of <select name="kind" id="kind">${KINDS.map((k) => html`<option value="${k}"${k === given.kind ? html` selected` : ''}>${k === 'all' ? 'everything' : `a ${k}`}</option>`)}</select></label>
<label>named <input name="value" id="value" value="${given.value ?? ''}" placeholder="empty for everything"></label></p>
<p><label>Reason <input name="reason" id="reason" required maxlength="1024" value="${given.reason ?? ''}"></label></p>
<p><label>Also block new vends for <input name="blockSeconds" id="block" type="number" min="60" max="2592000" placeholder="seconds, optional"></label></p>
<p><button type="submit" id="preview">Continue…</button></p></form>`,
  };
}

export interface Preview {
  kind: string;
  value: string;
  reason: string;
  blockSeconds?: number;
  sessions: number;
  roles: string[];
}

export function confirmPage(s: ConsoleSession, p: Preview): Page {
  const scope = p.kind === 'all' ? 'every developer' : `${p.kind} ${p.value}`;
  return {
    title: 'Confirm revocation',
    session: s,
    body: html`<p id="impact">This revokes <strong id="impact-sessions">${p.sessions}</strong> live session${p.sessions === 1 ? '' : 's'} of ${scope} and writes a Deny to <strong>${p.roles.length}</strong> role${p.roles.length === 1 ? '' : 's'}${p.blockSeconds ? `, and blocks new vends for ${p.blockSeconds} s` : ''}.</p>
<ul>${p.roles.map((r) => html`<li class="arn">${r}</li>`)}</ul><p>Reason: ${p.reason}</p>
<form method="post" action="/console/revoke">${csrfField(s)}<input type="hidden" name="kind" value="${p.kind}"><input type="hidden" name="value" value="${p.value}"><input type="hidden" name="reason" value="${p.reason}">${p.blockSeconds ? html`<input type="hidden" name="blockSeconds" value="${p.blockSeconds}">` : ''}
<button type="submit" class="danger" id="confirm">Revoke ${p.sessions} session${p.sessions === 1 ? '' : 's'}</button> <a href="/console/revoke">Cancel</a></form>`,
  };
}

const selectorText = (r: RevocationRecord) => (r.selector.kind === 'all' ? 'everything' : `${r.selector.kind} ${r.selector.value ?? ''}`);

export function revocationPage(s: ConsoleSession, r: RevocationRecord, nowMs: number): Page {
  const blocked = r.blockedUntil !== undefined && Date.parse(r.blockedUntil) > nowMs;
  const all = r.roles.every((x) => x.state === 'applied');
  return {
    title: `Revocation ${r.revocationId}`,
    session: s,
    body: html`<table class="facts"><tr><th>Scope</th><td>${selectorText(r)}</td></tr><tr><th>Reason</th><td>${r.reason}</td></tr><tr><th>Operator</th><td>${r.operator}</td></tr>
<tr><th>When</th><td>${when(r.createdAt)}</td></tr><tr><th>Sessions revoked</th><td>${r.sessionsRevoked}</td></tr><tr><th>Block</th><td>${r.blockedUntil ? html`until ${when(r.blockedUntil)}` : 'none'}</td></tr>
<tr><th>In AWS</th><td id="overall">${all ? 'applied' : 'pending'}</td></tr></table>
<h2>Roles</h2><table id="roles" data-poll="/console/api/revocations/${q(r.revocationId)}"><thead><tr><th>Role</th><th>State</th><th>Last error</th></tr></thead><tbody>
${r.roles.map((x) => html`<tr><td class="arn">${x.roleArn}</td><td class="state-${roleState(x)}" data-role="${x.roleArn}">${roleState(x)}</td><td data-role-error="${x.roleArn}">${x.error ?? ''}</td></tr>`)}</tbody></table>
${blocked ? html`<form method="post" action="/console/revocations/${q(r.revocationId)}/lift">${csrfField(s)}<button type="submit" id="lift">Lift the block</button></form>` : ''}`,
  };
}

export function revocationsPage(s: ConsoleSession, list: RevocationRecord[], nowMs: number): Page {
  const blocks = list.filter((r) => r.blockedUntil !== undefined && Date.parse(r.blockedUntil) > nowMs);
  return {
    title: 'Revocations and blocks',
    session: s,
    body: html`<h2>Active blocks</h2>${blocks.length === 0 ? html`<p id="no-blocks">No block is in force.</p>` : ''}<table id="blocks"><tbody>${blocks.map(
      (r) => html`<tr><td>${selectorText(r)}</td><td>until ${countdown(r.blockedUntil!)}</td><td>${r.reason}</td><td><form method="post" action="/console/revocations/${q(r.revocationId)}/lift" class="inline">${csrfField(s)}<button type="submit">Lift</button></form></td></tr>`,
    )}</tbody></table>
<h2>Revocations</h2><table id="revocations"><thead><tr><th>Id</th><th>When</th><th>Scope</th><th>Reason</th><th>Operator</th><th>Sessions</th><th>Roles</th></tr></thead><tbody>
${list.map((r) => html`<tr><td><a href="/console/revocations/${q(r.revocationId)}">${r.revocationId}</a></td><td>${when(r.createdAt)}</td><td>${selectorText(r)}</td><td>${r.reason}</td><td>${r.operator}</td><td>${r.sessionsRevoked}</td><td>${r.roles.filter((x) => x.state === 'applied').length}/${r.roles.length} applied</td></tr>`)}
</tbody></table>`,
  };
}

export function approvalsPage(s: ConsoleSession, list: ApprovalRecord[]): Page {
  return {
    title: 'Approvals',
    session: s,
    body: html`<table id="approvals"><thead><tr><th>Request</th><th>State</th><th>Who asks</th><th>Template</th><th>Project</th><th>Reason</th><th>Expires in</th></tr></thead><tbody>
${list.map((a) => html`<tr data-approval="${a.approvalId}"><td><a href="/console/approvals/${q(a.approvalId)}">${a.approvalId}</a></td><td class="approval-${a.state}">${a.state}</td><td>${developer(a.requester.developer, a.requester.developerClaim)}</td><td>${a.template}</td><td>${a.project}</td><td>${a.reason}</td><td>${a.state === 'pending' ? countdown(a.expiresAt) : '-'}</td></tr>`)}
</tbody></table>${list.length === 0 ? html`<p>No approval requests.</p>` : ''}`,
  };
}

export function approvalPage(s: ConsoleSession, a: ApprovalRecord, canDecide: { ok: boolean; why?: string }): Page {
  const row = (k: string, value: SafeHtml | string | undefined) => html`<tr><th>${k}</th><td>${value ?? '-'}</td></tr>`;
  return {
    title: `Approval ${a.approvalId}`,
    session: s,
    body: html`<table class="facts" id="approval">${row('State', html`<span id="approval-state">${a.state}</span>`)}${row('Who asks', developer(a.requester.developer, a.requester.developerClaim))}${row('Issuer / subject', `${a.requester.issuer} / ${a.requester.subject}`)}
${row('Access type', a.requester.accessType)}${row('Template', a.template)}${row('Role', a.roleArn)}${row('Project', a.project)}${row('Their reason', html`<span id="approval-reason">${a.reason || '(none given)'}</span>`)}
${row('Asked', when(a.createdAt))}${row('Expires', html`${when(a.expiresAt)} (${countdown(a.expiresAt)})`)}${row('Approvers', a.approverGroups.join(', '))}
${a.decision ? html`${row('Decision', `${a.decision.outcome} by ${a.decision.byClaim} at ${a.decision.at}`)}${row('Decision reason', a.decision.reason)}` : ''}${a.sessionId ? row('Session', html`<a href="/console/sessions/${q(a.sessionId)}">${a.sessionId}</a>`) : ''}</table>
${a.state === 'pending' ? (canDecide.ok ? html`<form method="post" action="/console/approvals/${q(a.approvalId)}/decide" id="decide">${csrfField(s)}<p><label>Your reason <input name="reason" id="decision-reason" required maxlength="1024"></label></p>
<p><button type="submit" name="outcome" value="approved" id="approve">Approve</button> <button type="submit" name="outcome" value="denied" class="danger" id="deny">Deny</button></p></form>` : html`<p class="error" id="cannot-decide">${canDecide.why ?? ''}</p>`) : ''}
<h2>Parameters</h2><pre id="approval-parameters">${pretty(a.request.parameters)}</pre>
<h2>Session policy it would get</h2><pre id="approval-policy">${pretty(a.policy)}</pre>
`,
  };
}
