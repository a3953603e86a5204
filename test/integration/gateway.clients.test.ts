import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { errorCodeOf, rawCall } from '../helpers/raw-sigv4';
import { startStack, type TestStack } from '../helpers/stack';

/**
 * Clients nobody here wrote, through the gateway with nothing but gateway credentials: Debian's AWS CLI 2.9 and
 * boto3 1.26 (which ignore AWS_ENDPOINT_URL, hence --endpoint-url / endpoint_url), and the JS SDK v3 streaming
 * 20 MB each way. The environment holds no AWS secret and no config file.
 */
const AWS_CLI = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';
let stack: TestStack;
let dir: string;
type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string };
let gw: Gw;
let table: Gw;
beforeAll(async () => {
  stack = await startStack({ gateway: true });
  dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-clients-'));
  // Uploads stay single PUTs here; gateway.multipart.test.ts sends them in parts.
  writeFileSync(path.join(dir, 'config'), '[default]\ns3 =\n  multipart_threshold = 64MB\n');
  const res = await stack.vend({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' });
  expect(res.status).toBe(200);
  gw = res.body.gateway as Gw;
  const t = await stack.vend({ template: 'dynamodb-read-table', parameters: { table: 'orders' }, delivery: 'gateway' });
  expect(t.status).toBe(200);
  table = t.body.gateway as Gw;
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Only what the agent holds: the gateway key pair and region; no profile, no credentials file, no token. */
const agentEnv = (g: Gw = gw): NodeJS.ProcessEnv => ({
  PATH: '/usr/bin:/bin',
  HOME: dir,
  AWS_CONFIG_FILE: path.join(dir, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: os.devNull,
  AWS_ACCESS_KEY_ID: g.accessKeyId,
  AWS_SECRET_ACCESS_KEY: g.secretAccessKey,
  AWS_DEFAULT_REGION: g.region,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
});

function run(file: string, args: string[], input?: string, g?: Gw): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: agentEnv(g), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}
const aws = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', gw.endpointUrl, ...args]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the AWS CLI through the gateway', () => {
  it('gets the caller identity as the session role', async () => {
    const r = await aws('sts', 'get-caller-identity', '--output', 'json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).Arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/agent-s3\/alice@example\.com\./);
  });

  it('copies up, lists and copies down, and a delete is refused by the gateway rule', async () => {
    const file = path.join(dir, 'cli.txt');
    writeFileSync(file, 'from the aws cli\n');
    expect((await aws('s3', 'cp', file, 's3://backend-data/agent-out/cli.txt')).code).toBe(0);
    const ls = await aws('s3', 'ls', 's3://backend-data/agent-out/');
    expect(ls.stdout).toContain('cli.txt');
    expect((await aws('s3', 'cp', 's3://backend-data/agent-out/cli.txt', '-')).stdout).toBe('from the aws cli\n');
    const rm = await aws('s3', 'rm', 's3://backend-data/agent-out/cli.txt');
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toContain('AccessDenied');
    expect(rm.stderr).toContain('denies s3:DeleteObject through the gateway');
  });

  it('uploads and downloads 20 MB intact', async () => {
    const data = randomBytes(20 * 1024 * 1024);
    writeFileSync(path.join(dir, 'big.bin'), data);
    expect((await aws('s3', 'cp', path.join(dir, 'big.bin'), 's3://backend-data/agent-out/cli-big.bin')).code).toBe(0);
    expect((await aws('s3', 'cp', 's3://backend-data/agent-out/cli-big.bin', path.join(dir, 'back.bin'))).code).toBe(0);
    expect(sha(readFileSync(path.join(dir, 'back.bin')))).toBe(sha(data));
  }, 120_000);
});

describe('a JSON-protocol service (DynamoDB) through the gateway', () => {
  const ddb = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', table.endpointUrl, 'dynamodb', ...args, '--output', 'json'], undefined, table);

  it('the AWS CLI describes the table and gets an item; a write is refused by IAM and the answer comes back unchanged', async () => {
    const described = await ddb('describe-table', '--table-name', 'orders');
    expect(described.stderr).toBe('');
    expect(JSON.parse(described.stdout).Table).toMatchObject({ TableName: 'orders', TableStatus: 'ACTIVE' });
    const got = await ddb('get-item', '--table-name', 'orders', '--key', '{"id":{"S":"o-1001"}}');
    expect(JSON.parse(got.stdout).Item).toMatchObject({ customer: { S: 'alice@example.com' } });
    const put = await ddb('put-item', '--table-name', 'orders', '--item', '{"id":{"S":"o-9"}}');
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain('AccessDeniedException');
    const calls = await stack.deps.gateway!.store.calls(table.accessKeyId.slice(4), 10);
    expect(calls.map((c) => [c.operation, c.resource, c.status, c.code ?? null])).toEqual([
      ['dynamodb:PutItem', 'orders', 400, 'AccessDeniedException'],
      ['dynamodb:GetItem', 'orders', 200, null],
      ['dynamodb:DescribeTable', 'orders', 200, null],
    ]);
  });

  it('boto3 gets the item', async () => {
    const script = `
import boto3, json, os, sys
d = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name=os.environ['AWS_DEFAULT_REGION'])
print(json.dumps(d.get_item(TableName='orders', Key={'id': {'S': 'o-1002'}})['Item']))
`;
    const r = await run(PYTHON, ['-c', script, table.endpointUrl], undefined, table);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ customer: { S: 'bob@example.com' }, total: { N: '17.00' } });
  });

  it('refuses a bad signature in the JSON shape (__type) DynamoDB clients parse', async () => {
    const answer = await rawCall({
      base: table.endpointUrl,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{"TableName":"orders","Key":{"id":{"S":"o-1001"}}}',
      service: 'dynamodb',
      accessKeyId: table.accessKeyId,
      secretAccessKey: 'wrong',
    });
    expect([answer.status, errorCodeOf(answer), answer.headers['content-type']]).toEqual([403, 'InvalidSignatureException', 'application/x-amz-json-1.0']);
  });
});

describe('boto3 through the gateway', () => {
  it('does STS, S3 put, get, list and a 20 MB round trip; a delete is AccessDenied', async () => {
    const script = `
import boto3, hashlib, json, os, sys
from botocore.exceptions import ClientError
kw = dict(endpoint_url=sys.argv[1], region_name=os.environ['AWS_DEFAULT_REGION'])
out = {'arn': boto3.client('sts', **kw).get_caller_identity()['Arn']}
s3 = boto3.client('s3', config=boto3.session.Config(s3={'addressing_style': 'path'}), **kw)
s3.put_object(Bucket='backend-data', Key='agent-out/boto.txt', Body=b'from boto3')
out['get'] = s3.get_object(Bucket='backend-data', Key='agent-out/boto.txt')['Body'].read().decode()
out['keys'] = [o['Key'] for o in s3.list_objects_v2(Bucket='backend-data', Prefix='agent-out/')['Contents']]
big = os.urandom(20 * 1024 * 1024)
s3.put_object(Bucket='backend-data', Key='agent-out/boto-big.bin', Body=big)
back = s3.get_object(Bucket='backend-data', Key='agent-out/boto-big.bin')['Body'].read()
out['big'] = hashlib.sha256(back).hexdigest() == hashlib.sha256(big).hexdigest()
try:
    s3.delete_object(Bucket='backend-data', Key='agent-out/boto.txt')
    out['delete'] = 'ok'
except ClientError as e:
    out['delete'] = e.response['Error']['Code']
print(json.dumps(out))
`;
    const r = await run(PYTHON, ['-c', script, gw.endpointUrl]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.arn).toContain(':assumed-role/agent-s3/alice@example.com.');
    expect(out.get).toBe('from boto3');
    expect(out.keys).toContain('agent-out/boto.txt');
    expect(out.big).toBe(true);
    expect(out.delete).toBe('AccessDenied');
  }, 120_000);
});

describe('the JS SDK streaming through the gateway', () => {
  it('puts a 20 MB stream (aws-chunked, the SDK default) and reads it back as a stream, byte for byte', async () => {
    const s3 = new S3Client({ endpoint: gw.endpointUrl, region: gw.region, forcePathStyle: true, credentials: gw, maxAttempts: 1 });
    const data = randomBytes(20 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/sdk-big.bin', Body: Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]), ContentLength: data.length }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/sdk-big.bin' }));
    const hash = createHash('sha256');
    for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(sha(data));
    const calls = stack.logs.filter((l) => l.event === 'gateway.call' && l.resource === 'backend-data/agent-out/sdk-big.bin');
    // What crossed the wire: the upload's bytes in aws-chunked framing (two chunks and a CRC32 trailer).
    const framing = `100000\r\n\r\n${(data.length - (1 << 20)).toString(16)}\r\n\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`.length;
    expect(calls.map((l) => [l.operation, l.bytesIn, l.bytesOut])).toEqual([
      ['s3:PutObject', data.length + framing, 0],
      ['s3:GetObject', 0, data.length],
    ]);
  }, 120_000);
});
