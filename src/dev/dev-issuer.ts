import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyLike } from 'jose';

/**
 * A development OIDC issuer: discovery document, JWKS and a token-minting endpoint over plain HTTP.
 * `npm run dev` and the tests use it in place of a real IdP, so the service verifies its tokens through
 * exactly the code path (discovery, remote JWKS, jose) it uses in production. Never for production use:
 * keys live in memory and anyone on the loopback interface can mint tokens.
 */

export type DevAlgorithm = 'RS256' | 'ES256';

/** The audience tokens get when none is given; matches the example config. */
export const DEV_AUDIENCE = 'sts-vend';

export interface DevIssuerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. The mint endpoint exists only on a loopback host, unless `allowMint`. */
  host?: string;
  /** The origin clients reach the issuer at, for `iss` and `jwks_uri` (default `http://<host>:<port>`), e.g. a compose service name. */
  publicUrl?: string;
  /**
   * Offer the mint endpoint on a non-loopback host too (the compose dev profile, where the issuer runs in its own
   * container). Dev only: anyone who can reach the port can mint tokens the service accepts.
   */
  allowMint?: boolean;
  /** Path prefix of the issuer URL, e.g. `/corp`, so one process can run several issuers. */
  issuerPath?: string;
  /** Keys to generate and publish; the first is the default signing algorithm. Default both. */
  algorithms?: DevAlgorithm[];
}

export interface MintOptions {
  alg?: DevAlgorithm;
  /** Header kid to write (default the current key's); null leaves the kid out. */
  kid?: string | null;
  /** Lifetime from iat (default 600). */
  expiresInSeconds?: number;
  /** Epoch seconds for nbf (absent by default). */
  notBefore?: number;
  /** Epoch seconds for iat (default now): tests freeze time by minting at their clock. */
  issuedAt?: number;
  /** Default audience when `claims.aud` is not given (default `sts-vend`). */
  audience?: string | string[];
}

export interface DevIssuer {
  /** The `iss` value, e.g. `http://127.0.0.1:40123/corp`. */
  issuer: string;
  jwksUri: string;
  /** POST JSON here to get a token (loopback only); undefined when bound elsewhere. */
  tokenUrl?: string;
  /**
   * The OAuth authorization endpoint (authorization code + PKCE S256): a dev sign-in form where anyone types an
   * email and groups, no password. Offered exactly when the mint endpoint is.
   */
  authorizationEndpoint?: string;
  /**
   * Signs a token. Defaults: iss, sub (= email, or `dev-user`), aud, iat, exp, jti. Given claims win over
   * the defaults, and a claim given as `undefined` is removed (to craft tokens lacking e.g. `sub`).
   */
  mint(claims?: Record<string, unknown>, opts?: MintOptions): Promise<string>;
  /** New keys with new kids; the previous generation stays published for the overlap a real IdP keeps. */
  rotateKeys(): Promise<void>;
  /** The public keys currently published at jwksUri. */
  publicJwks(): JWK[];
  stop(): Promise<void>;
}

interface SigningKey {
  alg: DevAlgorithm;
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

const MAX_MINT_BODY_BYTES = 16 * 1024;
const DEFAULT_LIFETIME_SECONDS = 600;

/** A request body as UTF-8 text, at most MAX_MINT_BODY_BYTES (the mint and sign-in endpoints read small bodies only). */
function readText(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MINT_BODY_BYTES) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  try {
    return JSON.parse(text || '{}');
  } catch {
    throw new Error('body is not JSON');
  }
}

const optionalString = (v: unknown): v is string | undefined => v === undefined || (typeof v === 'string' && v.length > 0);

/**
 * Turns a `POST /token` body into mint arguments: `developer` (or `email`), `groups`, `project`, `sub`,
 * `audience`, `expiresInSeconds`, and `claims` for anything else (e.g. a CI token's repository/actor).
 */
function mintArguments(body: unknown): { claims: Record<string, unknown>; opts: MintOptions } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  const email = b.developer ?? b.email;
  if (!optionalString(email) || !optionalString(b.project) || !optionalString(b.sub) || !optionalString(b.audience)) {
    return 'developer, email, project, sub and audience must be non-empty strings';
  }
  if (b.groups !== undefined && !(Array.isArray(b.groups) && b.groups.every((g) => typeof g === 'string'))) {
    return 'groups must be an array of strings';
  }
  const ttl = b.expiresInSeconds;
  if (ttl !== undefined && !(Number.isInteger(ttl) && (ttl as number) >= 60 && (ttl as number) <= 43200)) {
    return 'expiresInSeconds must be an integer from 60 to 43200';
  }
  const extra = b.claims ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return 'claims must be an object';
  const claims: Record<string, unknown> = { ...(extra as Record<string, unknown>) };
  if (email !== undefined) claims.email = email;
  if (b.groups !== undefined) claims.groups = b.groups;
  if (b.project !== undefined) claims.project = b.project;
  if (b.sub !== undefined) claims.sub = b.sub;
  else if (email !== undefined) claims.sub = email;
  const opts: MintOptions = {};
  if (b.audience !== undefined) opts.audience = b.audience as string;
  if (ttl !== undefined) opts.expiresInSeconds = ttl as number;
  return { claims, opts };
}

async function newKey(alg: DevAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Hosts only this machine can reach: the mint endpoint is offered only when bound to one. */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Starts a dev issuer; resolves once it listens. */
export async function startDevIssuer(opts: DevIssuerOptions = {}): Promise<DevIssuer> {
  const host = opts.host ?? '127.0.0.1';
  const algorithms = opts.algorithms ?? ['RS256', 'ES256'];
  if (algorithms.length === 0) throw new TypeError('dev issuer needs at least one algorithm');
  const base = (opts.issuerPath ?? '').replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) throw new TypeError('issuerPath must start with /');

  let current = await Promise.all(algorithms.map(newKey));
  let previous: SigningKey[] = [];
  const publicJwks = () => [...current, ...previous].map((k) => ({ ...k.publicJwk }));

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = opts.publicUrl?.replace(/\/+$/, '') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${origin}${base}`;
  const jwksUri = `${issuer}/jwks`;
  const mintEnabled = isLoopbackHost(host) || opts.allowMint === true;

  const mint: DevIssuer['mint'] = async (claims = {}, mo = {}) => {
    const alg = mo.alg ?? algorithms[0]!;
    const key = current.find((k) => k.alg === alg);
    if (!key) throw new TypeError(`dev issuer has no ${alg} key`);
    const iat = mo.issuedAt ?? Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: issuer,
      sub: typeof claims.email === 'string' ? claims.email : 'dev-user',
      aud: mo.audience ?? DEV_AUDIENCE,
      iat,
      exp: iat + (mo.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS),
      ...(mo.notBefore !== undefined ? { nbf: mo.notBefore } : {}),
      jti: randomUUID(),
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    const kid = mo.kid === undefined ? key.kid : mo.kid;
    return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...(kid === null ? {} : { kid }) }).sign(key.privateKey);
  };

  const { authorize, exchange } = codeFlow(mint);

  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (path === `${base}/.well-known/openid-configuration` && req.method === 'GET') {
      send(200, {
        issuer,
        jwks_uri: jwksUri,
        ...(mintEnabled
          ? { authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/oauth/token`, code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code'] }
          : {}),
        response_types_supported: mintEnabled ? ['code', 'id_token'] : ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: algorithms,
      });
    } else if (path === `${base}/authorize` && mintEnabled) {
      authorize(req, res);
    } else if (path === `${base}/oauth/token` && mintEnabled) {
      exchange(req, res, send);
    } else if (path === `${base}/jwks` && req.method === 'GET') {
      send(200, { keys: publicJwks() });
    } else if (path === `${base}/token` && mintEnabled) {
      if (req.method !== 'POST') send(405, { error: { code: 'method_not_allowed', message: 'POST a JSON body' } });
      else {
        readJson(req)
          .then((body) => {
            const args = mintArguments(body);
            if (typeof args === 'string') return send(400, { error: { code: 'bad_request', message: args } });
            return mint(args.claims, args.opts).then((token) => {
              const expiresIn = args.opts.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS;
              // `Accept: text/plain` answers the bare token, for `TOKEN=$(curl ...)` without jq.
              if ((req.headers.accept ?? '').includes('text/plain')) {
                res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
                res.end(token);
              } else send(200, { token, token_type: 'Bearer', expires_in: expiresIn });
            });
          })
          .catch((err: Error) => send(400, { error: { code: 'bad_request', message: err.message } }));
      }
    } else {
      send(404, { error: { code: 'not_found', message: 'no such dev issuer endpoint' } });
    }
  });

  return {
    issuer,
    jwksUri,
    ...(mintEnabled ? { tokenUrl: `${issuer}/token`, authorizationEndpoint: `${issuer}/authorize` } : {}),
    mint,
    async rotateKeys() {
      const fresh = await Promise.all(algorithms.map(newKey));
      previous = current;
      current = fresh;
    },
    publicJwks,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets held by JWKS and fetch clients would otherwise keep close() waiting.
        server.closeAllConnections();
      }),
  };
}

/** One authorization the dev sign-in form granted, until its code is exchanged (once) or a minute passes. */
interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  claims: Record<string, unknown>;
  expiresAt: number;
}

const CODE_TTL_MS = 60_000;
const escapeText = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readText(req));
}

/**
 * The authorization code flow with PKCE (RFC 6749 4.1, RFC 7636 S256), just enough for the console's sign-in:
 * GET /authorize shows a form (email, groups), POST /authorize redirects back with a one-time code, POST
 * /oauth/token trades the code and its verifier for an ID token whose audience is the client id.
 */
function codeFlow(mint: DevIssuer['mint']) {
  const grants = new Map<string, Grant>();
  const page = (res: http.ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; form-action 'self' http: https:; frame-ancestors 'none'" });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Dev sign-in</title></head><body>${body}</body></html>`);
  };
  const authorize = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const query = new URL(req.url ?? '/', 'http://dev').searchParams;
    const handle = (p: URLSearchParams) => {
      const clientId = p.get('client_id') ?? '';
      const redirectUri = p.get('redirect_uri') ?? '';
      const state = p.get('state') ?? '';
      const challenge = p.get('code_challenge') ?? '';
      if (p.get('response_type') !== 'code' || !clientId || !URL.canParse(redirectUri) || !/^https?:/.test(redirectUri)) {
        return page(res, 400, '<p>invalid authorization request: response_type=code, client_id and an http(s) redirect_uri are required</p>');
      }
      if (p.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
        return page(res, 400, '<p>invalid authorization request: PKCE with code_challenge_method=S256 is required</p>');
      }
      const hidden = ['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'scope']
        .filter((k) => p.get(k) !== null)
        .map((k) => `<input type="hidden" name="${k}" value="${escapeText(p.get(k)!)}">`)
        .join('');
      if (req.method !== 'POST') {
        return page(
          res,
          200,
          `<h1>Dev sign-in</h1><p>Development issuer: anyone may sign in as anyone. No password.</p><form method="post">${hidden}` +
            '<p><label>Email <input name="email" id="email" required></label></p>' +
            '<p><label>Groups (comma separated) <input name="groups" id="groups"></label></p>' +
            '<p><button type="submit" id="sign-in">Sign in</button></p></form>',
        );
      }
      const email = (p.get('email') ?? '').trim();
      if (!email) return page(res, 400, '<p>an email is required</p>');
      const groups = (p.get('groups') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
      const code = randomBytes(24).toString('base64url');
      const nonce = p.get('nonce') ?? undefined;
      grants.set(code, { clientId, redirectUri, challenge, ...(nonce ? { nonce } : {}), claims: { email, sub: email, groups }, expiresAt: Date.now() + CODE_TTL_MS });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      if (state) back.searchParams.set('state', state);
      res.writeHead(303, { location: back.toString(), 'cache-control': 'no-store' });
      res.end();
    };
    if (req.method === 'POST') readForm(req).then(handle, () => page(res, 400, '<p>unreadable form</p>'));
    else if (req.method === 'GET') handle(query);
    else page(res, 405, '<p>GET or POST</p>');
  };
  const exchange = (req: http.IncomingMessage, res: http.ServerResponse, send: (status: number, body: unknown) => void): void => {
    if (req.method !== 'POST') return send(405, { error: 'invalid_request', error_description: 'POST a form' });
    readForm(req).then(
      async (p) => {
        const code = p.get('code') ?? '';
        const grant = grants.get(code);
        grants.delete(code);
        if (p.get('grant_type') !== 'authorization_code') return send(400, { error: 'unsupported_grant_type' });
        if (!grant || grant.expiresAt < Date.now()) return send(400, { error: 'invalid_grant', error_description: 'unknown or expired code' });
        const verifier = p.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (p.get('client_id') !== grant.clientId || p.get('redirect_uri') !== grant.redirectUri || challenge !== grant.challenge) {
          return send(400, { error: 'invalid_grant', error_description: 'client_id, redirect_uri or code_verifier does not match' });
        }
        const idToken = await mint({ ...grant.claims, ...(grant.nonce ? { nonce: grant.nonce } : {}) }, { audience: grant.clientId, expiresInSeconds: 3600 });
        return send(200, { id_token: idToken, token_type: 'Bearer', expires_in: 3600 });
      },
      () => send(400, { error: 'invalid_request' }),
    );
  };
  return { authorize, exchange };
}
