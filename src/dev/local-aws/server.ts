/**
 * One HTTP server for STS, IAM and S3: reads the whole body, serves the admin paths, verifies the SigV4
 * signature, and dispatches on the service name in the signature's credential scope.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ADMIN_PREFIX, serveAdmin } from './admin-http';
import { authenticate, type Caller } from './authenticate';
import { AwsError, isAwsError } from './aws-error';
import type { FaultInjector } from './faults';
import { newRequestId } from './ids';
import { isQueryService, serveQuery, writeQueryError } from './query-service';
import { serveDynamo, writeDynamoError, type Table } from './dynamodb';
import type { S3Handler } from './s3';
import type { ChunkSigning } from './s3-chunked';
import { parseAuthorization, scopeOf, signingKey, type ParsedAuthorization } from './sigv4';
import type { LocalAwsAdmin } from './types';
import type { World } from './world';
import { restErrorXml } from './xml';

/** Largest request body accepted (S3 single PUTs in tests stay far below). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ServerDeps {
  world: World;
  now: () => Date;
  faults: FaultInjector;
  s3: S3Handler;
  admin: LocalAwsAdmin;
  tables: Map<string, Table>;
  authorize(caller: RequestCaller, action: string, resource: string): 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
}

/** A verified caller plus the client address used for aws:SourceIp. */
export type RequestCaller = Caller & { sourceIp: string };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sourceIpOf = (req: IncomingMessage): string => (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

/** When no signature names the service, guess it the way a client would have meant it. */
const guessService = (req: IncomingMessage, body: Buffer): string =>
  /(^|&)Action=/.test(body.toString('latin1')) || /[?&]Action=/.test(req.url ?? '') ? 'sts' : 's3';

function writeError(res: ServerResponse, service: string, err: AwsError, requestId: string): void {
  if (isQueryService(service)) return writeQueryError(res, service, err, requestId);
  if (service === 'dynamodb') return writeDynamoError(res, jsonAuthError(err), requestId);
  res.writeHead(err.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
  res.end(restErrorXml(err, requestId));
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  // Admin requests are unsigned; a signed request for such a path is an S3 key (virtual-host style), not admin.
  if ((req.url ?? '').startsWith(ADMIN_PREFIX) && !req.headers.authorization) return serveAdmin(req, res, body, deps.admin);
  const requestId = newRequestId();
  const auth = parseAuthorization(req.headers.authorization);
  const service = auth?.service ?? guessService(req, body);
  const now = deps.now();
  let caller: RequestCaller;
  try {
    caller = { ...authenticate(req, auth, body, deps.world, now, service), sourceIp: sourceIpOf(req) };
  } catch (err) {
    if (!isAwsError(err)) throw err;
    return writeError(res, service, err, requestId);
  }
  if (deps.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, deps.faults.latencyMs));
  if (service === 's3') return deps.s3(req, res, { caller, body, requestId, signing: chunkSigning(req, auth!, caller) });
  if (service === 'dynamodb') {
    const target = req.headers['x-amz-target'];
    return serveDynamo(res, {
      target: Array.isArray(target) ? target[0] : target,
      body,
      requestId,
      accountId: deps.world.accountId,
      region: deps.world.region,
      tables: deps.tables,
      principalArn: caller.principalArn,
      authorize: (action, resource) => deps.authorize(caller, action, resource),
    });
  }
  if (isQueryService(service)) {
    return serveQuery(res, { service, url: req.url ?? '/', body, requestId, world: deps.world, caller, now, sourceIp: caller.sourceIp, faults: deps.faults });
  }
  writeError(res, 'sts', new AwsError(400, 'InvalidAction', `The emulator does not serve ${service}`), requestId);
}

/** The chain a signed aws-chunked body continues: the verified request's key, date, scope and signature. */
function chunkSigning(req: IncomingMessage, auth: ParsedAuthorization, caller: Caller): ChunkSigning {
  const secret = caller.isSession ? caller.session.secretAccessKey : caller.user.secretAccessKey;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  return { key: signingKey(secret, auth), amzDate, scope: scopeOf(auth), seed: auth.signature };
}

/** DynamoDB names the authentication failures the Query services share with their JSON-protocol names. */
function jsonAuthError(err: AwsError): AwsError {
  const names: Record<string, string> = { InvalidClientTokenId: 'UnrecognizedClientException', SignatureDoesNotMatch: 'InvalidSignatureException', MissingAuthenticationToken: 'MissingAuthenticationTokenException', ExpiredToken: 'ExpiredTokenException' };
  return new AwsError(err.status === 403 ? 400 : err.status, names[err.code] ?? err.code, err.message);
}

/** Builds the HTTP server (not listening yet). */
export function createLocalAwsServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      // A client that gave up on its upload mid-body (a gateway refusing a chunk) is no failure of the emulator.
      if ((err as NodeJS.ErrnoException)?.code === 'ECONNRESET' && req.destroyed) return;
      console.error('local-aws: request failed', err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
}
