import { refusalCode, type RefusalKind } from '../../src/gateway/aws-errors';
import { gatewayAccessKeyId, gatewaySecret, sessionIdOfKey } from '../../src/gateway/gateway-key';
import { identify } from '../../src/gateway/operations';
import { virtualBucket } from '../../src/gateway/request-parts';
import { checkRules } from '../../src/gateway/rules';
import { REGION, s3Upstream, SERVICES, upstreamFor } from '../../src/gateway/services';
import { parseAmzDate } from '../../src/gateway/sigv4';

const svc = (name: string) => SERVICES.get(name)!;
const s3 = (method: string, bucket: string, key: string, query = '', headers: Record<string, string> = {}) =>
  identify(svc('s3'), { method, bucket, key, rawPath: '/', query: new URLSearchParams(query), headers });

describe('S3 operations and the IAM action S3 authorizes them as', () => {
  it.each<[string, string, string, string, Record<string, string>, string, string]>([
    ['GET', '', '', '', {}, 's3:ListBuckets', 's3:ListAllMyBuckets'],
    ['GET', 'b', '', 'list-type=2&prefix=p/', {}, 's3:ListObjectsV2', 's3:ListBucket'],
    ['GET', 'b', '', 'prefix=p/', {}, 's3:ListObjects', 's3:ListBucket'],
    ['HEAD', 'b', '', '', {}, 's3:HeadBucket', 's3:ListBucket'],
    ['GET', 'b', '', 'location', {}, 's3:GetBucketLocation', 's3:GetBucketLocation'],
    ['POST', 'b', '', 'delete', {}, 's3:DeleteObjects', 's3:DeleteObject'],
    ['DELETE', 'b', '', 'tagging', {}, 's3:DeleteBucketTagging', 's3:PutBucketTagging'],
    ['GET', 'b', 'k', 'x-id=GetObject', {}, 's3:GetObject', 's3:GetObject'],
    ['GET', 'b', 'k', 'versionId=3', {}, 's3:GetObject', 's3:GetObjectVersion'],
    ['HEAD', 'b', 'k', '', {}, 's3:HeadObject', 's3:GetObject'],
    ['PUT', 'b', 'k', '', {}, 's3:PutObject', 's3:PutObject'],
    ['PUT', 'b', 'k', '', { 'x-amz-copy-source': '/o/k' }, 's3:CopyObject', 's3:PutObject'],
    ['PUT', 'b', 'k', 'partNumber=1&uploadId=u', {}, 's3:UploadPart', 's3:PutObject'],
    ['POST', 'b', 'k', 'uploads', {}, 's3:CreateMultipartUpload', 's3:PutObject'],
    ['POST', 'b', 'k', 'uploadId=u', {}, 's3:CompleteMultipartUpload', 's3:PutObject'],
    ['DELETE', 'b', 'k', 'uploadId=u', {}, 's3:AbortMultipartUpload', 's3:AbortMultipartUpload'],
    ['DELETE', 'b', 'k', '', {}, 's3:DeleteObject', 's3:DeleteObject'],
    ['DELETE', 'b', 'k', 'versionId=3', {}, 's3:DeleteObject', 's3:DeleteObjectVersion'],
    ['GET', 'b', '', 'session', {}, 's3:CreateSession', 's3express:CreateSession'],
  ])('%s %s/%s ?%s', (method, bucket, key, query, headers, operation, action) => {
    expect(s3(method, bucket, key, query, headers)).toMatchObject({ operation, action });
  });

  it('leaves a shape S3 has no operation for unidentified', () => {
    expect(s3('PATCH', 'b', 'k').operation).toBeUndefined();
    expect(s3('GET', 'b', 'k', 'acl&tagging').operation).toBeUndefined();
  });
});

describe('Query and JSON protocol operations', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  it('reads Action from the form body or the query, and refuses a disagreement', () => {
    const body = Buffer.from('Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&Version=2011-06-15');
    expect(identify(svc('sts'), { method: 'POST', bucket: '', key: '', rawPath: '/', query: new URLSearchParams(), headers: form, body })).toEqual({ operation: 'sts:AssumeRole', action: 'sts:AssumeRole', resource: 'arn:aws:iam::1:role/r' });
    expect(identify(svc('sts'), { method: 'GET', bucket: '', key: '', rawPath: '/', query: new URLSearchParams('Action=GetCallerIdentity'), headers: {} }).operation).toBe('sts:GetCallerIdentity');
    expect(identify(svc('sts'), { method: 'POST', bucket: '', key: '', rawPath: '/', query: new URLSearchParams('Action=GetCallerIdentity'), headers: form, body }).operation).toBeUndefined();
  });
  it('reads X-Amz-Target and the resource of a JSON body', () => {
    const body = Buffer.from('{"TableName":"orders","Key":{}}');
    expect(identify(svc('dynamodb'), { method: 'POST', bucket: '', key: '', rawPath: '/', query: new URLSearchParams(), headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' }, body })).toEqual({ operation: 'dynamodb:GetItem', action: 'dynamodb:GetItem', resource: 'orders' });
    expect(identify(svc('logs'), { method: 'POST', bucket: '', key: '', rawPath: '/', query: new URLSearchParams(), headers: { 'x-amz-target': 'Logs_20140328.FilterLogEvents' }, body: Buffer.from('{"logGroupName":"/aws/lambda/x"}') })).toMatchObject({ operation: 'logs:FilterLogEvents', resource: '/aws/lambda/x' });
    expect(identify(svc('dynamodb'), { method: 'POST', bucket: '', key: '', rawPath: '/', query: new URLSearchParams(), headers: { 'x-amz-target': 'DynamoDB_20120810.get item' } }).operation).toBeUndefined();
  });
  it('reads Lambda REST paths, InvokeFunction for Invoke', () => {
    const call = (method: string, rawPath: string) => identify(svc('lambda'), { method, bucket: '', key: '', rawPath, query: new URLSearchParams(), headers: {} });
    expect(call('PUT', '/2015-03-31/functions/orders-api/code')).toEqual({ operation: 'lambda:UpdateFunctionCode', action: 'lambda:UpdateFunctionCode', resource: 'orders-api' });
    expect(call('POST', '/2015-03-31/functions/orders-api/invocations')).toMatchObject({ operation: 'lambda:Invoke', action: 'lambda:InvokeFunction' });
    expect(call('GET', '/2018-10-31/layers')).toEqual({});
  });
});

describe('gateway rules and the minting guard', () => {
  const t = (operation?: string, action = operation) => ({ ...(operation ? { operation } : {}), ...(action ? { action } : {}) });
  it.each<[string, Parameters<typeof checkRules>[0], string, ReturnType<typeof t>, string]>([
    ['no rules: anything identified passes', undefined, 's3', t('s3:GetObject'), 'ok'],
    ['no rules: unidentified S3 still passes (IAM decides)', undefined, 's3', t(), 'ok'],
    ['deny by operation', { deny: ['s3:DeleteObject'] }, 's3', t('s3:DeleteObject'), 'denied'],
    ['deny by IAM action covers DeleteObjects', { deny: ['s3:DeleteObject'] }, 's3', t('s3:DeleteObjects', 's3:DeleteObject'), 'denied'],
    ['deny glob', { deny: ['s3:Delete*'] }, 's3', t('s3:DeleteBucket'), 'denied'],
    ['allow list lets listed calls through', { allow: ['s3:GetObject'] }, 's3', t('s3:HeadObject', 's3:GetObject'), 'ok'],
    ['allow list refuses the rest', { allow: ['s3:GetObject'] }, 's3', t('s3:PutObject'), 'not_allowed'],
    ['deny wins over allow', { allow: ['s3:*'], deny: ['s3:PutObject'] }, 's3', t('s3:PutObject'), 'denied'],
    ['rules need the operation', { deny: ['s3:DeleteObject'] }, 's3', t(), 'unidentified'],
    ['minting refused by default', undefined, 'sts', t('sts:AssumeRole'), 'minting'],
    ['minting refused under a glob allow', { allow: ['sts:*'] }, 'sts', t('sts:GetSessionToken'), 'minting'],
    ['minting allowed when named literally', { allow: ['sts:AssumeRole'] }, 'sts', t('sts:AssumeRole'), 'ok'],
    ['an unidentified call to a minting service is refused', undefined, 'sts', t(), 'unidentified'],
    ['ECR login token is minting', undefined, 'ecr', t('ecr:GetAuthorizationToken'), 'minting'],
    ['S3 Express sessions are minting', undefined, 's3', t('s3:CreateSession', 's3express:CreateSession'), 'minting'],
    ['GetCallerIdentity is not', undefined, 'sts', t('sts:GetCallerIdentity'), 'ok'],
  ])('%s', (_name, rules, service, target, expected) => {
    const v = checkRules(rules, service, target);
    expect(v.ok ? 'ok' : v.reason).toBe(expected);
  });
});

describe('where calls go', () => {
  it('derives AWS endpoints from service and region only; overrides come from the operator', () => {
    expect(upstreamFor(svc('s3'), 'eu-west-1', {}).url.href).toBe('https://s3.eu-west-1.amazonaws.com/');
    expect(upstreamFor(svc('iam'), 'us-east-1', {}).url.href).toBe('https://iam.amazonaws.com/');
    expect(upstreamFor(svc('ecr'), 'us-west-2', {}).url.href).toBe('https://api.ecr.us-west-2.amazonaws.com/');
    expect(upstreamFor(svc('sts'), 'cn-north-1', {}).url.href).toBe('https://sts.cn-north-1.amazonaws.com.cn/');
    expect(upstreamFor(svc('sts'), 'us-east-1', { default: 'http://127.0.0.1:4599' })).toMatchObject({ overridden: true });
    expect(upstreamFor(svc('sts'), 'us-east-1', { s3: 'http://x:1', default: 'http://127.0.0.1:4599' }).url.host).toBe('127.0.0.1:4599');
  });
  it.each(['us-east-1', 'eu-central-2', 'ap-southeast-4', 'us-gov-west-1', 'cn-northwest-1'])('accepts the region %s', (r) => expect(REGION.test(r)).toBe(true));
  it.each(['us-east-1.evil.example', 'localhost', '', 'us-east-10', 'US-EAST-1', 'us-east-1/', '../x'])('refuses the region %j', (r) => expect(REGION.test(r)).toBe(false));
  it('sends S3 path-style to an override and virtual-hosted to AWS', () => {
    const aws = new URL('https://s3.us-east-1.amazonaws.com');
    const emu = new URL('http://127.0.0.1:4599');
    expect(s3Upstream(emu, true, '/k/x.txt', 'b', 'b')).toEqual({ url: emu, path: '/b/k/x.txt' });
    expect(s3Upstream(emu, true, '/b/k/x.txt', 'b', '')).toEqual({ url: emu, path: '/b/k/x.txt' });
    const v = s3Upstream(aws, false, '/bkt/k/x.txt', 'bkt', '');
    expect([v.url.host, v.path]).toEqual(['bkt.s3.us-east-1.amazonaws.com', '/k/x.txt']);
    const h = s3Upstream(aws, false, '/k/x.txt', 'bkt', 'bkt');
    expect([h.url.host, h.path]).toEqual(['bkt.s3.us-east-1.amazonaws.com', '/k/x.txt']);
    const d = s3Upstream(aws, false, '/my.dotted.bucket/k', 'my.dotted.bucket', '');
    expect([d.url.host, d.path]).toEqual(['s3.us-east-1.amazonaws.com', '/my.dotted.bucket/k']);
  });
  it('answers only for its own host names, and reads S3 virtual hosts', () => {
    const hosts = ['gw.example.com'];
    expect(virtualBucket('gw.example.com:8081', hosts, true)).toBe('');
    expect(virtualBucket('backend-data.gw.example.com', hosts, true)).toBe('backend-data');
    for (const host of ['evil.example', 'gw.example.com.evil.example', '169.254.169.254', 'x.gw.example.com']) {
      expect(() => virtualBucket(host, hosts, host === 'x.gw.example.com' ? false : true)).toThrow(/names no endpoint/);
    }
  });
});

describe('gateway keys and dates', () => {
  it('key ids name sessions, never look like AWS keys, and secrets differ per key and per server key', () => {
    const id = gatewayAccessKeyId('Xk3pQ9vTz2Lm');
    expect(id).toBe('SVGWXk3pQ9vTz2Lm');
    expect(sessionIdOfKey(id)).toBe('Xk3pQ9vTz2Lm');
    for (const bad of ['AKIAXk3pQ9vTz2Lm', 'SVGWXk3pQ9vTz2L', 'SVGWXk3pQ9vTz2Lm0', 'SVGW../../../../..']) expect(sessionIdOfKey(bad)).toBeUndefined();
    const k1 = Buffer.from('a'.repeat(32));
    const k2 = Buffer.from('b'.repeat(32));
    expect(gatewaySecret(k1, id)).toBe(gatewaySecret(k1, id));
    expect(gatewaySecret(k1, id)).not.toBe(gatewaySecret(k2, id));
    expect(gatewaySecret(k1, id)).not.toBe(gatewaySecret(k1, gatewayAccessKeyId('Xk3pQ9vTz2Ln')));
  });
  it('parses X-Amz-Date strictly', () => {
    expect(parseAmzDate('20261201T101500Z')?.toISOString()).toBe('2026-12-01T10:15:00.000Z');
    for (const bad of ['2026-12-01T10:15:00Z', '20261201T101500', '20261301T101500Z', undefined]) expect(parseAmzDate(bad)).toBeUndefined();
  });
});

describe('refusal codes per protocol', () => {
  it.each<[RefusalKind, string, string, string]>([
    ['signature', 'SignatureDoesNotMatch', 'SignatureDoesNotMatch', 'InvalidSignatureException'],
    ['unknownKey', 'InvalidAccessKeyId', 'InvalidClientTokenId', 'UnrecognizedClientException'],
    ['skew', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch', 'InvalidSignatureException'],
    ['denied', 'AccessDenied', 'AccessDenied', 'AccessDeniedException'],
    ['throttled', 'SlowDown', 'Throttling', 'ThrottlingException'],
    ['expired', 'ExpiredToken', 'ExpiredToken', 'ExpiredTokenException'],
    ['unavailable', 'ServiceUnavailable', 'ServiceUnavailable', 'ServiceUnavailableException'],
  ])('%s', (kind, s3code, query, json) => {
    expect([refusalCode(kind, 'rest-xml').code, refusalCode(kind, 'query').code, refusalCode(kind, 'json').code]).toEqual([s3code, query, json]);
  });
});
