/**
 * The story of one gateway call: read the signature's credential scope, verify the agent's signature, find the
 * session, checkpoint it (live, not revoked, ended, blocked or past its lifetime; rate limit) in one Redis round
 * trip, apply the template's gateway rules and the minting guard, re-sign with the session's real credentials
 * and forward to the endpoint derived from the service and region, streaming; then one audit line, metrics and
 * a call record. Every refusal is AWS-shaped and forwards nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { ConfigPort, GatewayDeps, SessionsPort, TemplatesPort } from '../ports';
import type { SessionRecord } from '../storage/session-record';
import { StoreUnavailableError } from '../storage/redis-client';
import { GatewayRefusal, writeRefusal } from './aws-errors';
import { forward } from './forward';
import { gatewaySecret, sessionIdOfKey } from './gateway-key';
import { identify, type CallTarget } from './operations';
import { flatHeaders, readBounded, s3Target, virtualBucket } from './request-parts';
import { checkRules } from './rules';
import { REGION, s3Upstream, SERVICES, upstreamFor, type Protocol, type ServiceSpec } from './services';
import { upstreamCredentials, type CredentialDeps } from './session-credentials';
import { chunkChain, MAX_SKEW_MS, parseAmzDate, parseAuth, queryObject, sha256Hex, signatureOf, verifyPresigned, verifySignature, type ParsedAuth } from './sigv4';
import { awsChunkedStream, streamingUpload } from './aws-chunked';
import { checkPresignedWindow, hasPresignParameter, isPresigned, parsePresigned, presignedSigningQuery, upstreamOfPresigned } from './presigned';
import type { CallRecord } from './gateway-store';
import { metricOperation } from './gateway-metrics';
import { checkProxiedHost, type AwsHost } from './proxy-hosts';

/** What one gateway call uses: the issuing ports (real credentials), sessions, templates and its config. */
export type GatewayCallPorts = CredentialDeps & SessionsPort & TemplatesPort & ConfigPort<'gateway' | 'sessions'>;

export interface GatewayContext {
  deps: GatewayCallPorts;
  gw: GatewayDeps;
  /** Host names the gateway answers for (S3 virtual hosts are `<bucket>.<name>`). */
  hosts: readonly string[];
  /** Session records seen by this replica (scope for the checkpoint); refreshed by every checkpoint. */
  scopes: Map<string, SessionRecord>;
  /** Proxy mode: the AWS host the agent's tunnel was opened to, which every call in it must name. */
  proxy?: AwsHost;
}

const MAX_SCOPES = 10_000;

interface Outcome {
  status: number;
  code?: string;
  bytesIn: number;
  bytesOut: number;
  refused: boolean;
  kind?: string;
}

/** Serves one request on the gateway listener; never rejects. */
export async function serveGatewayCall(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
  const started = performance.now();
  const requestId = randomUUID();
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = (q < 0 ? rawUrl : rawUrl.slice(0, q)) || '/';
  const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
  const query = new URLSearchParams(rawQuery);
  const headers = flatHeaders(req);
  let protocol: Protocol = guessProtocol(headers, query);
  let service: ServiceSpec | undefined;
  let region = '';
  let session: SessionRecord | undefined;
  let target: CallTarget = {};
  let keyId: string | undefined;
  let outcome: Outcome;
  let bodyRead = false;
  try {
    const presigned = isPresigned(rawQuery) ? parsePresigned(rawQuery) : undefined;
    if (presigned && headers.authorization) throw new GatewayRefusal('invalidRequest', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
    // A header-signed call carrying presign parameters (a token, a signature) would send them upstream beside the
    // real ones, signed by the gateway: AWS refuses two auth mechanisms, and so does the gateway.
    if (!presigned && hasPresignParameter(rawQuery)) throw new GatewayRefusal('invalidRequest', 'Only one auth mechanism allowed; the Authorization header was given with X-Amz-* presign query parameters');
    const auth = presigned ?? parseAuth(headers.authorization);
    region = auth.region.slice(0, 32);
    keyId = auth.accessKeyId.slice(0, 64);
    service = SERVICES.get(auth.service);
    if (!service) throw new GatewayRefusal('unknownService', `this gateway does not forward to the service "${auth.service.slice(0, 64)}"`);
    protocol = service.alsoJson && headers['x-amz-target'] ? 'json' : service.protocol;
    if (!REGION.test(auth.region) || (service.signingRegion && auth.region !== service.signingRegion)) {
      throw new GatewayRefusal('malformed', `the credential scope names no region ${service.name} is signed for: "${region}"`);
    }
    if (ctx.proxy) checkProxiedHost(ctx.proxy, headers.host, service.name, auth.region);
    const s3 = service.name === 's3';
    const hostBucket = virtualBucket(headers.host, ctx.hosts, s3);
    const sessionId = sessionIdOfKey(auth.accessKeyId);
    if (!sessionId) throw new GatewayRefusal('unknownKey', 'The security token included in the request is invalid.');
    const now = ctx.deps.now();
    if (presigned && !s3) throw new GatewayRefusal('unsupported', `presigned URLs are served for S3 only; sign ${service.name} requests with the Authorization header`);
    if (presigned) checkPresignedWindow(presigned, now);
    const signingDate = presigned?.signingDate ?? headerSigningDate(headers, auth, now);

    // S3 says what its payload is (and AWS checks the body against it); every other body is read here, bounded.
    const declared = headers['x-amz-content-sha256'];
    let body: Buffer | undefined;
    let payloadHash: string;
    // aws-chunked: the header signature seeds the chunks' chain; each chunk is checked as it streams (aws-chunked.ts).
    const upload = s3 && !presigned && declared?.startsWith('STREAMING-') ? streamingUpload(declared, headers) : undefined;
    if (presigned) {
      payloadHash = 'UNSIGNED-PAYLOAD';
    } else if (upload) {
      payloadHash = upload.form;
    } else if (s3) {
      if (!declared || !(declared === 'UNSIGNED-PAYLOAD' || /^[0-9a-f]{64}$/.test(declared))) throw new GatewayRefusal('malformed', 'Missing required header for this request: x-amz-content-sha256');
      payloadHash = declared;
    } else {
      if (expectContinue) res.writeContinue();
      body = await readBounded(req, ctx.deps.config.gateway.maxBufferedBodyBytes);
      bodyRead = true;
      payloadHash = sha256Hex(body);
      if (declared && declared !== payloadHash && auth.signedHeaders.includes('x-amz-content-sha256')) {
        throw new GatewayRefusal('payloadHash', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    }
    const secret = gatewaySecret(ctx.gw.key, auth.accessKeyId);
    const signedQuery = queryObject(rawQuery);
    const ok = presigned
      ? await verifyPresigned({ method: req.method ?? 'GET', host: headers.host ?? '', rawPath, query: presignedSigningQuery(rawQuery), headers, auth, secret, signingDate, expiresSeconds: presigned.expiresSeconds, ...(presigned.securityToken !== undefined ? { securityToken: presigned.securityToken } : {}) })
      : await verifySignature({ method: req.method ?? 'GET', host: headers.host ?? '', rawPath, query: signedQuery, headers, ...(body && !auth.signedHeaders.includes('x-amz-content-sha256') ? { body } : {}), auth, secret, signingDate });
    if (!ok) {
      throw new GatewayRefusal('signature', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
    // The gateway signs every header it forwards with the real credentials, so an x-amz-* header the agent did not
    // sign (added by whoever holds a presigned URL, or on the wire) would be vouched for by the session: refused,
    // as AWS refuses it.
    const unsigned = unsignedAmzHeaders(headers, auth.signedHeaders, presigned !== undefined);
    if (unsigned.length > 0) throw new GatewayRefusal('unsignedHeader', `There were headers present in the request which were not signed: ${unsigned.join(', ').slice(0, 300)}`);

    // A presigned URL goes upstream with header auth: its presign parameters dropped, hoisted x-amz-* back as headers.
    const sent = presigned ? upstreamOfPresigned(rawQuery) : { rawQuery, headers: {} };
    const sentHeaders = { ...headers, ...sent.headers };
    const sentQuery = presigned ? new URLSearchParams(sent.rawQuery) : query;

    session = await checkpoint(ctx, sessionId, now);
    const { bucket, key } = s3 ? s3Target(rawPath, hostBucket) : { bucket: '', key: '' };
    target = identify(service, { method: req.method ?? 'GET', bucket, key, rawPath, query: sentQuery, headers: sentHeaders, ...(body ? { body } : {}) });
    const template = ctx.deps.templates.get(session.template);
    const verdict = checkRules(template?.gateway, service.name, target);
    if (!verdict.ok) throw new GatewayRefusal('denied', deniedMessage(verdict, target, session.template));

    const credentials = await credentialsFor(ctx, session, requestId);
    const upstream = upstreamFor(service, auth.region, ctx.deps.config.gateway.endpoints);
    const { url, path } = s3 ? s3Upstream(upstream.url, upstream.overridden, rawPath, bucket, hostBucket) : { url: upstream.url, path: rawPath };
    const signedHeaders = new Set([...auth.signedHeaders, ...Object.keys(sent.headers)]);
    const upstreamRegion = service.signingRegion ?? auth.region;
    const chunkChains = (resigned: Record<string, string>) => ({
      agent: chunkChain(auth.signature, signingDate, service!.name, auth.region, { accessKeyId: auth.accessKeyId, secretAccessKey: secret }),
      upstream: chunkChain(signatureOf(resigned), parseAmzDate(resigned['x-amz-date'])!, service!.name, upstreamRegion, credentials),
    });
    const result = await forward({
      req,
      res,
      method: req.method ?? 'GET',
      upstream: url,
      path,
      rawQuery: sent.rawQuery,
      query: presigned ? queryObject(sent.rawQuery) : signedQuery,
      headers: sentHeaders,
      signedHeaders,
      payloadHash,
      ...(body ? { body } : {}),
      ...(upload ? { reframe: (resigned: Record<string, string>) => req.pipe(awsChunkedStream({ ...upload, ...(upload.form.includes('HMAC') ? chunkChains(resigned) : {}) })) } : {}),
      service: service.name,
      region: upstreamRegion,
      credentials,
      now: ctx.deps.now(),
      ...(expectContinue ? { onBodyWanted: () => res.writeContinue() } : {}),
    }).catch((err: unknown) => {
      // A chunk that failed its check: the upstream request was aborted, the agent gets the refusal.
      if (err instanceof GatewayRefusal && !res.headersSent) throw err;
      ctx.deps.logger.warn({ requestId, service: service?.name, err: (err as Error)?.message }, 'gateway upstream failed');
      if (res.headersSent) {
        res.destroy();
        return { status: 502, code: 'UpstreamError', bytesIn: 0, bytesOut: 0 };
      }
      throw new GatewayRefusal('unavailable', 'the gateway could not reach the AWS endpoint; retry');
    });
    bodyRead = true;
    outcome = { ...result, refused: false };
  } catch (err) {
    const refusal = toRefusal(ctx, err, requestId);
    // A refused upload is not read: the connection closes once the answer is out.
    if (!bodyRead && !expectContinue) res.setHeader('connection', 'close');
    const { status, code } = writeRefusal(res, refusal, protocol, requestId, service?.jsonVersion);
    if (!bodyRead) res.once('finish', () => req.destroy());
    outcome = { status, code, bytesIn: 0, bytesOut: 0, refused: true, kind: refusal.kind };
  }
  finish(ctx, { requestId, started, service: service?.name ?? 'unknown', region, session, target, outcome, ...(keyId ? { keyId } : {}) });
}

/** A header-signed request's X-Amz-Date: on the scope's date, within 5 minutes of the gateway's clock. */
function headerSigningDate(headers: Record<string, string>, auth: ParsedAuth, now: Date): Date {
  const signingDate = parseAmzDate(headers['x-amz-date']);
  if (!signingDate || headers['x-amz-date']?.slice(0, 8) !== auth.date) throw new GatewayRefusal('malformed', 'the request must carry an X-Amz-Date matching the credential scope date');
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new GatewayRefusal('skew', `Signature expired: ${headers['x-amz-date']} is more than 5 minutes away from the gateway's time ${now.toISOString()}.`);
  }
  return signingDate;
}

function guessProtocol(headers: Record<string, string>, query: URLSearchParams): Protocol {
  if (headers['x-amz-target']) return 'json';
  if (query.has('Action') || /x-www-form-urlencoded/.test(headers['content-type'] ?? '')) return 'query';
  return 'rest-xml';
}

/** The session behind a verified key, checkpointed: one round trip (two the first time a replica sees it). */
async function checkpoint(ctx: GatewayContext, sessionId: string, now: Date): Promise<SessionRecord> {
  let scope = ctx.scopes.get(sessionId);
  if (!scope) {
    const found = await ctx.deps.sessions.get(sessionId);
    if (!found || found.delivery !== 'gateway') throw new GatewayRefusal('unknownKey', 'The security token included in the request is invalid.');
    scope = found;
  }
  const limit = ctx.deps.templates.get(scope.template)?.limits?.gatewayCallsPerSecond ?? ctx.deps.config.gateway.callsPerSecond;
  const cp = await ctx.gw.store.checkpoint({ id: scope.id, developer: scope.developer, project: scope.project, template: scope.template, createdAt: new Date(scope.createdAt) }, limit > 0);
  const record = cp.record;
  if (cp.verdict.verdict === 'revoked' || !record) {
    ctx.scopes.delete(sessionId);
    ctx.deps.credentialCache.delete(sessionId);
    throw new GatewayRefusal('revoked', 'this gateway session was revoked or ended; nothing was forwarded');
  }
  if (cp.verdict.verdict === 'blocked') {
    const seconds = Math.max(1, Math.ceil((cp.verdict.until.getTime() - now.getTime()) / 1000));
    throw new GatewayRefusal('revoked', `an operator has blocked this session's scope for ${seconds} s; nothing was forwarded`);
  }
  if (record.state !== 'live') throw new GatewayRefusal('revoked', `this gateway session is ${record.state}`);
  if (now.getTime() >= Date.parse(record.sessionEndsAt ?? record.expiresAt)) {
    ctx.deps.credentialCache.delete(sessionId);
    throw new GatewayRefusal('expired', 'The security token included in the request is expired: the session reached the end of its lifetime; vend a new one');
  }
  if (limit > 0 && cp.callsThisSecond > limit) throw new GatewayRefusal('throttled', `Rate exceeded: more than ${limit} calls per second for this session`, 1);
  if (ctx.scopes.size >= MAX_SCOPES && !ctx.scopes.has(sessionId)) ctx.scopes.delete(ctx.scopes.keys().next().value!);
  ctx.scopes.set(sessionId, record);
  return record;
}

async function credentialsFor(ctx: GatewayContext, session: SessionRecord, requestId: string) {
  try {
    return await upstreamCredentials(ctx.deps, session, requestId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) throw new GatewayRefusal('revoked', 'this gateway session was revoked while its credentials were renewed');
    throw err;
  }
}

function deniedMessage(v: Exclude<ReturnType<typeof checkRules>, { ok: true }>, t: CallTarget, template: string): string {
  const op = t.operation ?? 'this operation';
  switch (v.reason) {
    case 'denied':
      return `the template "${template}" denies ${op} through the gateway (gateway.deny: ${v.rule})`;
    case 'not_allowed':
      return `the template "${template}" allows only its gateway.allow list through the gateway, which does not name ${op}`;
    case 'minting':
      return `${op} would hand the agent AWS credentials; the gateway refuses it unless the template's gateway.allow names it`;
    case 'unidentified':
      return 'the gateway cannot tell which operation this request is, and the template has rules that need it';
  }
}

function toRefusal(ctx: GatewayContext, err: unknown, requestId: string): GatewayRefusal {
  if (err instanceof GatewayRefusal) return err;
  if (err instanceof StoreUnavailableError) {
    ctx.deps.metrics.redisErrors.inc({ op: 'gateway.checkpoint' });
    return new GatewayRefusal('unavailable', `the ${err.store} is unavailable; nothing was forwarded`, 2);
  }
  if (err instanceof ApiError && err.status === 503) return new GatewayRefusal('unavailable', 'the session store or AWS STS is unavailable; nothing was forwarded', err.retryAfter ?? 2);
  ctx.deps.logger.error({ requestId, err: (err as Error)?.message, name: (err as Error)?.name }, 'gateway call failed');
  return new GatewayRefusal('unavailable', 'the gateway could not serve this call; nothing was forwarded', 2);
}

function finish(
  ctx: GatewayContext,
  c: { requestId: string; started: number; service: string; region: string; session?: SessionRecord; target: CallTarget; outcome: Outcome; keyId?: string },
): void {
  const latencyMs = Math.round((performance.now() - c.started) * 1000) / 1000;
  const o = c.outcome;
  const outcome = o.refused ? (o.kind ?? 'refused') : 'forwarded';
  ctx.deps.metrics.gatewayCalls.inc({ service: c.service, operation: metricOperation(c.target.operation), outcome });
  ctx.deps.metrics.gatewayDuration.observe({ service: c.service, outcome }, latencyMs / 1000);
  const s = c.session;
  // What the audit line and the session's call record both say of the call.
  const call = {
    service: c.service,
    ...(c.target.operation ? { operation: c.target.operation } : {}),
    ...(c.target.resource ? { resource: c.target.resource } : {}),
    region: c.region,
    status: o.status,
    ...(o.code ? { code: o.code } : {}),
    bytesIn: o.bytesIn,
    bytesOut: o.bytesOut,
    latencyMs,
  };
  audit(ctx.deps.logger, {
    event: 'gateway.call',
    outcome: o.refused ? 'refused' : 'allowed',
    requestId: c.requestId,
    ...(s ? { sessionId: s.id, developer: s.developer, project: s.project, template: s.template } : {}),
    // The key id the signature claimed (not a secret): who a refused call said it was.
    ...(c.keyId ? { accessKeyId: c.keyId } : {}),
    ...call,
    ...(c.target.action && c.target.action !== c.target.operation ? { action: c.target.action } : {}),
  });
  if (!s) return;
  const record: CallRecord = { at: new Date(ctx.deps.now().getTime()).toISOString(), requestId: c.requestId, ...call, refused: o.refused };
  const ttlMs = Date.parse(s.sessionEndsAt ?? s.expiresAt) + ctx.deps.config.sessions.graceSeconds * 1000 - ctx.deps.now().getTime();
  ctx.gw.store.recordCall(s.id, record, ttlMs);
}

/**
 * x-amz-* request headers outside the signature. A presigned URL's payload hash is never signed (its query says
 * UNSIGNED-PAYLOAD; the gateway sets its own upstream), so x-amz-content-sha256 passes there.
 */
export function unsignedAmzHeaders(headers: Record<string, string>, signedHeaders: readonly string[], presigned: boolean): string[] {
  const signed = new Set(signedHeaders);
  return Object.keys(headers).filter((h) => h.startsWith('x-amz-') && !signed.has(h) && !(presigned && h === 'x-amz-content-sha256'));
}

