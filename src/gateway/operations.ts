/**
 * Which operation a call is, and the resource it names where that can be read without a service model:
 * Query protocol `Action` (query string or form body), JSON protocols `X-Amz-Target: <Prefix>.<Operation>`,
 * S3's REST bindings (s3-operations.ts) and Lambda's REST paths. Unknown stays undefined: rules that need the
 * operation then refuse the call (fail closed).
 */
import type { ServiceSpec } from './services';
import { s3Operation } from './s3-operations';

export interface CallTarget {
  /** `<service>:<Operation>` as the API names it (`s3:ListObjectsV2`), undefined when it cannot be told. */
  operation?: string;
  /** The IAM action IAM will check (`s3:ListBucket`); equals `operation` outside S3's exceptions. */
  action?: string;
  /** Bucket and key, table, function, log group, queue... when readable; never a payload. */
  resource?: string;
}

export interface CallShape {
  method: string;
  /** S3: from the path or the virtual host. */
  bucket: string;
  key: string;
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The buffered body (every service but S3), for form-encoded Query calls and JSON resources. */
  body?: Buffer;
}

const OPERATION = /^[A-Z][A-Za-z0-9]{1,127}$/;
const MAX_RESOURCE = 512;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.slice(0, MAX_RESOURCE));

export function identify(service: ServiceSpec, call: CallShape): CallTarget {
  const name = (op: string | undefined): CallTarget => {
    if (!op || !OPERATION.test(op)) return {};
    return { operation: `${service.name}:${op}`, action: `${service.iamPrefix}:${op}` };
  };
  const target = first(call.headers['x-amz-target']);
  if (service.protocol === 'json' || (service.alsoJson && target)) {
    const op = target?.slice(target.lastIndexOf('.') + 1);
    return { ...name(op), ...jsonResource(call.body) };
  }
  if (service.protocol === 'query') {
    const form = isForm(call.headers) && call.body ? new URLSearchParams(call.body.toString('utf8')) : undefined;
    // A form body and a query string naming different actions is a request no service answers as one.
    const fromQuery = call.query.get('Action') ?? undefined;
    const fromBody = form?.get('Action') ?? undefined;
    if (fromQuery && fromBody && fromQuery !== fromBody) return {};
    const params = form ?? call.query;
    const resource = params.get('RoleArn') ?? params.get('QueueUrl') ?? params.get('TopicArn') ?? params.get('RoleName') ?? params.get('UserName') ?? undefined;
    return { ...name(fromBody ?? fromQuery), ...(resource ? { resource: clip(resource) } : {}) };
  }
  if (service.protocol === 'rest-xml') {
    const op = s3Operation(call.method, call.bucket, call.key, call.query, call.headers);
    const resource = call.bucket ? `${call.bucket}${call.key ? `/${call.key}` : ''}` : undefined;
    return { ...(op ? { operation: `s3:${op.operation}`, action: op.action } : {}), ...(resource ? { resource: clip(resource) } : {}) };
  }
  return lambdaOperation(call);
}

function isForm(headers: CallShape['headers']): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(first(headers['content-type']) ?? '');
}

/** The resource of a JSON call: the first of the usual naming fields found in a JSON object body. */
function jsonResource(body: Buffer | undefined): { resource?: string } {
  if (!body || body.length === 0 || body.length > 1024 * 1024) return {};
  try {
    const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const field of ['TableName', 'logGroupName', 'logGroupIdentifier', 'FunctionName', 'QueueUrl', 'SecretId', 'KeyId', 'Name', 'repositoryName']) {
      const v = doc?.[field];
      if (typeof v === 'string') return { resource: clip(v) };
    }
  } catch {
    // Not JSON: the service will say so; the call simply has no readable resource.
  }
  return {};
}

/** Lambda's REST paths for the operations templates use; anything else stays unidentified. */
const LAMBDA: Array<[string, RegExp, string]> = [
  ['GET', /^\/2015-03-31\/functions\/([^/]+)$/, 'GetFunction'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, 'GetFunctionConfiguration'],
  ['PUT', /^\/2015-03-31\/functions\/([^/]+)\/code$/, 'UpdateFunctionCode'],
  ['PUT', /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, 'UpdateFunctionConfiguration'],
  ['POST', /^\/2015-03-31\/functions\/([^/]+)\/invocations$/, 'Invoke'],
  ['DELETE', /^\/2015-03-31\/functions\/([^/]+)$/, 'DeleteFunction'],
  ['GET', /^\/2015-03-31\/functions\/?$/, 'ListFunctions'],
  ['POST', /^\/2015-03-31\/functions\/?$/, 'CreateFunction'],
];

function lambdaOperation(call: CallShape): CallTarget {
  for (const [method, re, op] of LAMBDA) {
    const m = call.method === method ? re.exec(call.rawPath) : null;
    if (!m) continue;
    let fn: string | undefined;
    try {
      fn = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    } catch {
      return {};
    }
    return { operation: `lambda:${op}`, action: `lambda:${op === 'Invoke' ? 'InvokeFunction' : op}`, ...(fn ? { resource: clip(fn) } : {}) };
  }
  return {};
}
