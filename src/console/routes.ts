import { timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { decideApproval, isRequester, mayApprove, type DecideApprovalPorts } from '../approvals/approvals';
import type { Identity } from '../auth/identity';
import { isOperator } from '../auth/operator';
import { resolveDeveloper, resolveProject } from '../auth/resolve-identity';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify-token';
import { ApiError } from '../errors';
import type { GatewayStore } from '../gateway/gateway-store';
import { audit } from '../observability/audit';
import { assertValid } from '../openapi';
import type { ConfigPort, OpenApiPort } from '../ports';
import { liftBlock, type LiftBlockPorts } from '../revoke/lift-block';
import { previewRevocation, revokeSessions, type RevokePorts, type RevokeRequest } from '../revoke/revoke-sessions';
import { locals } from '../routes/middleware';
import { publicUrl } from '../routes/vend-answer';
import type { SessionRecord, SessionFilter } from '../storage/session-store';
import { storeCall } from '../storage/store-call';
import { renderPolicy } from '../templates/render-policy';
import { sessionTags } from '../vend/session-credentials';
import { findIllFormed } from '../well-formed';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import type { ConsoleIdentity, ConsoleSession, ConsoleStore } from './console-store';
import { html } from './html';
import { authorizationUrl, createDiscovery, exchangeCode, pkcePair } from './oidc';
import * as pages from './pages';

/** The console's CSP: its own script and style only, no inline script, no frames, forms post to itself. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SESSION_COOKIE = 'sv_console';
const SIGN_IN_COOKIE = 'sv_console_signin';
const LIST_PAGES = 5;

/**
 * What the console uses: the API's revoke, lift-block and decide use cases (so their ports), its own store of
 * sign-ins and sessions, the contract (a revoke form is checked as POST /v1/revoke), and, with gateway
 * delivery, a session's recent AWS calls.
 */
export type ConsolePorts = RevokePorts &
  LiftBlockPorts &
  DecideApprovalPorts &
  OpenApiPort &
  ConfigPort<'console' | 'issuers' | 'operators' | 'server'> & {
    consoleStore: ConsoleStore;
    gateway?: { store: Pick<GatewayStore, 'calls'> };
  };

interface ConsoleLocals {
  session: ConsoleSession;
  cookieId: string;
}
const consoleLocals = (res: Response): ConsoleLocals => (res.locals as { console: ConsoleLocals }).console;

/** The one cookie of that name; two of them (one tossed in by a sibling host) is no cookie at all. */
function readCookie(req: Request, name: string): string | undefined {
  const found = (req.get('cookie') ?? '')
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c.startsWith(`${name}=`))
    .map((c) => c.slice(name.length + 1));
  return found.length === 1 ? found[0] : undefined;
}

const cookie = (name: string, value: string, p: { path: string; maxAge: number; sameSite: 'Strict' | 'Lax' }): string =>
  `${name}=${value}; Path=${p.path}; Max-Age=${p.maxAge}; HttpOnly; Secure; SameSite=${p.sameSite}`;

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The console identity as the use cases take it (they read issuer, subject, developer, groups, owner). */
const asIdentity = (c: ConsoleIdentity): Identity => ({ ...c, claims: {} });

function send(res: Response, status: number, page: pages.Page): void {
  res.status(status).type('html').send(pages.layout(page));
}

const field = (body: unknown, name: string): string | undefined => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * /console: server-rendered pages for operators (src/console/pages.ts), signed in through a configured OIDC
 * issuer with the authorization code flow and PKCE. Every page reuses the API's use cases; this only adapts
 * HTML forms to them.
 */
export function consoleRoutes(deps: ConsolePorts): Router {
  const router = Router();
  const cfg = deps.config.console;
  const offered = deps.config.issuers.filter((i) => !cfg.issuers || cfg.issuers.includes(i.name));
  // The API's verifier, pinned to the console's client id as the audience: an API token is no console sign-in,
  // and a console ID token is no API token.
  const verifier: TokenVerifier = createTokenVerifier(offered.map((i) => ({ ...i, audiences: [cfg.clientId] })), { now: deps.now });
  const store = deps.consoleStore;
  const discovery = createDiscovery();
  const gateway = deps.gateway?.store;

  router.use('/console', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    next();
  });
  router.use('/console', express.urlencoded({ extended: false, limit: deps.config.server.bodyLimitBytes, parameterLimit: 50 }), (req, _res, next) => {
    if (findIllFormed(req.body, 'form') !== undefined) throw new ApiError(400, 'ill_formed_text', 'a form field is not well-formed Unicode');
    next();
  });

  router.get('/console/static/console.js', (_req, res) => void res.type('application/javascript').send(CONSOLE_JS));
  router.get('/console/static/console.css', (_req, res) => void res.type('text/css').send(CONSOLE_CSS));

  router.get('/console/login', async (req, res) => {
    const name = typeof req.query.issuer === 'string' ? req.query.issuer : '';
    const issuer = offered.find((i) => i.name === name);
    if (!issuer) return send(res, 400, pages.signInPage(offered.map((i) => i.name), `no sign-in is offered through "${name}"`));
    const endpoints = await discovery(issuer, deps.now().getTime());
    const { verifier: codeVerifier, challenge } = pkcePair();
    const nonce = pkcePair().verifier;
    const state = await storeCall(deps, 'console.signIn', () => store.beginSignIn({ issuer: issuer.name, verifier: codeVerifier, nonce }));
    // Lax, not Strict: the issuer's redirect back is a cross-site navigation, which a Strict cookie would miss.
    res.setHeader('Set-Cookie', cookie(SIGN_IN_COOKIE, state, { path: '/console/callback', maxAge: 600, sameSite: 'Lax' }));
    res.redirect(303, authorizationUrl(endpoints, { clientId: cfg.clientId, redirectUri: redirectUri(deps, req), state, nonce, challenge }));
  });

  router.get('/console/callback', async (req, res) => {
    const requestId = locals(res).requestId;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const started = readCookie(req, SIGN_IN_COOKIE);
    res.append('Set-Cookie', cookie(SIGN_IN_COOKIE, '', { path: '/console/callback', maxAge: 0, sameSite: 'Lax' }));
    // The state must come back to the browser that started the sign-in (login CSRF), and work only once.
    if (!started || !state || !sameText(started, state)) return send(res, 400, pages.signInPage(offered.map((i) => i.name), 'this sign-in was not started in this browser; start again'));
    const signIn = await storeCall(deps, 'console.signIn', () => store.takeSignIn(state));
    const issuer = signIn && offered.find((i) => i.name === signIn.issuer);
    if (!signIn || !issuer || !code) return send(res, 400, pages.signInPage(offered.map((i) => i.name), 'this sign-in expired or was already used; start again'));
    const endpoints = await discovery(issuer, deps.now().getTime());
    const idToken = await exchangeCode(endpoints, { clientId: cfg.clientId, redirectUri: redirectUri(deps, req), code, verifier: signIn.verifier });
    let identity: Identity;
    try {
      identity = await verifier.verify(idToken);
    } catch (err) {
      const why = err instanceof ApiError ? err.code : 'invalid_token';
      audit(deps.logger, { event: 'console.sign-in', outcome: 'refused', requestId, code: why, issuer: issuer.name });
      return send(res, 401, pages.signInPage(offered.map((i) => i.name), `the identity provider's answer was refused (${why})`));
    }
    // The token must come from the issuer this sign-in went to, for this sign-in (nonce).
    if (identity.issuer !== issuer.name || typeof identity.claims.nonce !== 'string' || !sameText(identity.claims.nonce, signIn.nonce)) {
      audit(deps.logger, { event: 'console.sign-in', outcome: 'refused', requestId, code: 'nonce_mismatch', issuer: issuer.name });
      return send(res, 401, pages.signInPage(offered.map((i) => i.name), 'the identity provider answered for another sign-in'));
    }
    const who = { issuer: identity.issuer, subject: identity.subject, developer: identity.developer };
    if (!isOperator(identity, deps.config.operators)) {
      audit(deps.logger, { event: 'console.sign-in', outcome: 'refused', requestId, code: 'operator_only', ...who });
      return send(res, 403, pages.refusalPage(identity.developerClaim, 'signed in, but not an operator'));
    }
    const now = deps.now();
    const exp = typeof identity.claims.exp === 'number' ? identity.claims.exp * 1000 : Infinity;
    const expiresAt = new Date(Math.min(now.getTime() + cfg.sessionTtlSeconds * 1000, exp));
    const kept: ConsoleIdentity = {
      issuer: identity.issuer,
      iss: identity.iss,
      subject: identity.subject,
      developer: identity.developer,
      developerClaim: identity.developerClaim,
      namespace: identity.namespace,
      owner: identity.owner,
      groups: identity.groups,
      accessType: identity.accessType,
    };
    const { cookieId } = await storeCall(deps, 'console.session', () => store.createSession(kept, expiresAt, now));
    audit(deps.logger, { event: 'console.sign-in', outcome: 'allowed', requestId, ...who });
    const seconds = Math.max(1, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
    res.append('Set-Cookie', cookie(SESSION_COOKIE, cookieId, { path: '/console', maxAge: seconds, sameSite: 'Strict' }));
    // A page, not a redirect: the next navigation starts on this origin, so the Strict cookie goes with it even
    // when the issuer lives on another site.
    res.status(200).type('html').send(
      html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/console"><title>Signed in</title><link rel="stylesheet" href="/console/static/console.css"></head><body><main><p>Signed in. <a href="/console" id="continue">Continue to the console</a>.</p></main></body></html>`.toString(),
    );
  });

  /** Signed in, still an operator of an offered issuer under the current config, and for POSTs the CSRF token. */
  const operator: RequestHandler = async (req, res, next) => {
    const cookieId = readCookie(req, SESSION_COOKIE);
    const session = cookieId ? await storeCall(deps, 'console.session', () => store.getSession(cookieId, deps.now())) : null;
    if (!cookieId || !session) {
      if (req.method === 'GET' && !req.path.startsWith('/console/api/')) return send(res, 401, pages.signInPage(offered.map((i) => i.name)));
      throw new ApiError(401, 'not_signed_in', 'sign in to the console first');
    }
    const id = session.identity;
    if (!offered.some((i) => i.name === id.issuer) || !isOperator(asIdentity(id), deps.config.operators)) {
      return send(res, 403, pages.refusalPage(id.developerClaim, 'this sign-in no longer grants the console'));
    }
    if (req.method === 'POST') {
      // A browser tells us a cross-site POST for what it is; the token refuses it anyway.
      if (req.get('sec-fetch-site') === 'cross-site') throw new ApiError(403, 'csrf', 'cross-site form posts are refused');
      const token = field(req.body, '_csrf') ?? req.get('x-csrf-token') ?? '';
      if (!sameText(token, session.csrf)) throw new ApiError(403, 'csrf', 'the form is missing its CSRF token or it is not this session\'s; reload the page');
    }
    (res.locals as { console: ConsoleLocals }).console = { session, cookieId };
    next();
  };
  const actor = (res: Response) => consoleLocals(res).session.identity;
  const read = (res: Response, what: string, query: Record<string, unknown> = {}) => {
    const a = actor(res);
    audit(deps.logger, { event: 'operator.read', outcome: 'allowed', requestId: locals(res).requestId, issuer: a.issuer, subject: a.subject, developer: a.developer, what: `console.${what}`, query });
  };

  router.post('/console/logout', operator, async (_req, res) => {
    const { cookieId, session } = consoleLocals(res);
    await storeCall(deps, 'console.session', () => store.endSession(cookieId));
    audit(deps.logger, { event: 'console.sign-out', outcome: 'allowed', requestId: locals(res).requestId, issuer: session.identity.issuer, subject: session.identity.subject, developer: session.identity.developer });
    res.setHeader('Set-Cookie', cookie(SESSION_COOKIE, '', { path: '/console', maxAge: 0, sameSite: 'Strict' }));
    res.redirect(303, '/console');
  });

  router.get('/console', operator, async (req, res) => {
    const q = Object.fromEntries(['developer', 'project', 'template', 'role', 'accessType', 'delivery'].map((k) => [k, typeof req.query[k] === 'string' ? (req.query[k] as string).trim() : '']).filter(([, v]) => v !== ''));
    read(res, 'sessions', q);
    const filter: SessionFilter = {
      ...(q.developer ? { developer: resolveDeveloper(deps.config.issuers, q.developer, 'developer') } : {}),
      ...(q.project ? { project: resolveProject(q.project) } : {}),
      ...(q.template ? { template: q.template } : {}),
      ...(q.role ? { role: q.role } : {}),
    };
    const sessions: SessionRecord[] = [];
    let cursor: string | null = null;
    let pagesRead = 0;
    do {
      const page = await storeCall(deps, 'sessions.list', () => deps.sessions.list(filter, cursor, 100));
      sessions.push(...page.sessions);
      cursor = page.cursor;
    } while (cursor && ++pagesRead < LIST_PAGES);
    const live = sessions.filter(
      (s) => (s.state === 'live' || s.state === 'pending') && (!q.accessType || s.accessType === q.accessType) && (!q.delivery || pages.deliveryOf(s) === q.delivery),
    );
    send(res, 200, pages.sessionsPage(consoleLocals(res).session, { filter: q, sessions: live, truncated: cursor !== null }));
  });

  router.get('/console/sessions/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    read(res, 'session', { id });
    const rec = /^[A-Za-z0-9]{12}$/.test(id) ? await storeCall(deps, 'get', () => deps.sessions.get(id)) : null;
    if (!rec) throw new ApiError(404, 'session_not_found', 'no such session');
    const template = deps.templates.get(rec.template);
    let policy: unknown;
    let policyError: string | undefined;
    try {
      if (template) policy = renderPolicy(template, rec.parameters, { developer: rec.developer, project: rec.project }).policy;
      else policyError = `template "${rec.template}" is no longer loaded`;
    } catch (err) {
      policyError = `the policy no longer renders: ${(err as Error).message}`;
    }
    const calls = pages.deliveryOf(rec) === 'gateway' && gateway ? await gateway.calls(rec.id, 50).catch(() => []) : undefined;
    send(res, 200, pages.sessionPage(consoleLocals(res).session, { rec, tags: sessionTags(rec), ...(policy ? { policy } : {}), ...(policyError ? { policyError } : {}), ...(calls ? { calls } : {}) }));
  });

  router.post('/console/sessions/:id/revoke', operator, async (req, res) => {
    const id = String(req.params.id);
    if (!/^[A-Za-z0-9]{12}$/.test(id)) throw new ApiError(404, 'session_not_found', 'no such session');
    const reason = field(req.body, 'reason')?.trim() || 'revoked from the console';
    const { revocation } = await revokeSessions(deps, asIdentity(actor(res)), { sessionId: id, reason }, locals(res).requestId);
    res.redirect(303, `/console/revocations/${encodeURIComponent(revocation.revocationId)}`);
  });

  router.get('/console/revoke', operator, (req, res) => {
    const s = (k: string) => (typeof req.query[k] === 'string' ? (req.query[k] as string) : undefined);
    send(res, 200, pages.revokeForm(consoleLocals(res).session, { kind: s('kind'), value: s('value') }));
  });

  /** The form as the API's RevokeRequest, checked against the same contract as POST /v1/revoke. */
  const revokeRequest = (body: unknown): { request: RevokeRequest; kind: string; value: string; reason: string; blockSeconds?: number } => {
    const kind = field(body, 'kind') ?? '';
    const value = (field(body, 'value') ?? '').trim();
    const reason = (field(body, 'reason') ?? '').trim();
    const blockText = (field(body, 'blockSeconds') ?? '').trim();
    if (!(pages.KINDS as readonly string[]).includes(kind)) throw new ApiError(400, 'invalid_request', 'kind: choose developer, project, template or everything');
    if (kind !== 'all' && !value) throw new ApiError(400, 'invalid_request', `value: name the ${kind} to revoke`);
    if (blockText && !/^\d{1,8}$/.test(blockText)) throw new ApiError(400, 'invalid_request', 'blockSeconds: a whole number of seconds');
    const blockSeconds = blockText ? Number(blockText) : undefined;
    const scope: Pick<RevokeRequest, 'all' | 'developer' | 'project' | 'template'> =
      kind === 'all' ? { all: true } : kind === 'developer' ? { developer: value } : kind === 'project' ? { project: value } : { template: value };
    const request: RevokeRequest = { ...scope, reason, ...(blockSeconds !== undefined ? { block: { durationSeconds: blockSeconds } } : {}) };
    assertValid(deps.openapi.find('POST', '/v1/revoke')!.body!, request, 'body');
    return { request, kind, value, reason, ...(blockSeconds !== undefined ? { blockSeconds } : {}) };
  };

  router.post('/console/revoke/confirm', operator, async (req, res) => {
    let parsed: ReturnType<typeof revokeRequest>;
    try {
      parsed = revokeRequest(req.body);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 400) throw err;
      return send(res, 400, pages.revokeForm(consoleLocals(res).session, { kind: field(req.body, 'kind'), value: field(req.body, 'value'), reason: field(req.body, 'reason') }, err.message));
    }
    const preview = await previewRevocation(deps, parsed.request);
    send(res, 200, pages.confirmPage(consoleLocals(res).session, { ...parsed, sessions: preview.sessions, roles: preview.roles }));
  });

  router.post('/console/revoke', operator, async (req, res) => {
    const { request } = revokeRequest(req.body);
    const { revocation } = await revokeSessions(deps, asIdentity(actor(res)), request, locals(res).requestId);
    res.redirect(303, `/console/revocations/${encodeURIComponent(revocation.revocationId)}`);
  });

  router.get('/console/revocations', operator, async (_req, res) => {
    read(res, 'revocations');
    const page = await storeCall(deps, 'revocations.list', () => deps.killSwitch.listRevocations(null, 100));
    send(res, 200, pages.revocationsPage(consoleLocals(res).session, page.revocations, deps.now().getTime()));
  });

  const revocation = async (id: string) => {
    const rec = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await storeCall(deps, 'revocations.get', () => deps.killSwitch.getRevocation(id)) : null;
    if (!rec) throw new ApiError(404, 'revocation_not_found', 'no such revocation');
    return rec;
  };
  router.get('/console/revocations/:id', operator, async (req, res) => {
    read(res, 'revocation', { id: req.params.id });
    send(res, 200, pages.revocationPage(consoleLocals(res).session, await revocation(String(req.params.id)), deps.now().getTime()));
  });
  /** Each role's state, polled by the revocation page until every role is applied. */
  router.get('/console/api/revocations/:id', operator, async (req, res) => {
    const rec = await revocation(String(req.params.id));
    res.json({
      revocationId: rec.revocationId,
      roles: rec.roles.map((r) => ({ roleArn: r.roleArn, state: r.state === 'applied' && r.compacted ? 'compacted' : r.state, ...(r.error ? { error: r.error } : {}) })),
    });
  });
  router.post('/console/revocations/:id/lift', operator, async (req, res) => {
    const id = String(req.params.id);
    await revocation(id);
    await liftBlock(deps, actor(res), id, locals(res).requestId);
    res.redirect(303, `/console/revocations/${encodeURIComponent(id)}`);
  });

  router.get('/console/approvals', operator, async (_req, res) => {
    read(res, 'approvals');
    const list = await storeCall(deps, 'approvals.list', () => deps.approvals.list(deps.now()));
    const order = { pending: 0, approved: 1, collected: 2, denied: 3, expired: 4 };
    list.sort((a, b) => order[a.state] - order[b.state] || b.createdAt.localeCompare(a.createdAt));
    send(res, 200, pages.approvalsPage(consoleLocals(res).session, list));
  });
  router.get('/console/approvals/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    read(res, 'approval', { id });
    const rec = await storeCall(deps, 'approvals.get', () => deps.approvals.get(id, deps.now()));
    if (!rec) throw new ApiError(404, 'approval_not_found', 'no such approval');
    const a = actor(res);
    const canDecide = isRequester(rec, a)
      ? { ok: false, why: 'This is your own request: somebody else must decide it.' }
      : mayApprove(rec, a)
        ? { ok: true }
        : { ok: false, why: `Only members of ${rec.approverGroups.join(', ')} decide this request.` };
    send(res, 200, pages.approvalPage(consoleLocals(res).session, rec, canDecide));
  });
  router.post('/console/approvals/:id/decide', operator, async (req, res) => {
    const id = String(req.params.id);
    const outcome = field(req.body, 'outcome');
    const reason = (field(req.body, 'reason') ?? '').trim();
    if (outcome !== 'approved' && outcome !== 'denied') throw new ApiError(400, 'invalid_request', 'outcome: approved or denied');
    if (!reason || reason.length > 1024) throw new ApiError(400, 'invalid_request', 'reason: say why, in at most 1024 characters');
    await decideApproval(deps, actor(res), id, outcome, reason, locals(res).requestId);
    res.redirect(303, `/console/approvals/${encodeURIComponent(id)}`);
  });

  router.use('/console', (_req: Request, _res: Response) => {
    throw new ApiError(404, 'not_found', 'no such console page');
  });
  // Console errors are pages (JSON for the polling endpoint), never the API's JSON error body.
  router.use('/console', (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : undefined;
    const status = e?.status ?? ((err as { status?: number }).status === 413 ? 413 : 500);
    if (status >= 500) deps.logger.error({ requestId: locals(res).requestId, code: e?.code ?? 'internal_error', err: (err as Error)?.message }, 'console request failed');
    const code = e?.code ?? (status === 413 ? 'payload_too_large' : 'internal_error');
    const message = e && (e.expose || status < 500) ? e.message : 'internal error';
    if (req.path.startsWith('/console/api/')) return void res.status(status).json({ error: { code, message, requestId: locals(res).requestId } });
    send(res, status, pages.errorPage(status, code, message));
  });
  return router;
}

/** The callback URL this console registers with the issuer: on the service's public origin. */
function redirectUri(deps: ConfigPort<'server'>, req: Request): string {
  return `${publicUrl(deps, req)}/console/callback`;
}
