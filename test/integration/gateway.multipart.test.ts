/**
 * Multipart uploads through the gateway with Debian's AWS CLI (what `aws s3 cp` does past 8 MB), each part a
 * call of its own that passes the checkpoint: a file goes up in parts and comes back intact, and a revocation in
 * the middle of an upload stops the next part.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { waitFor } from '../helpers/kill-switch';
import { AWS_CLI, describeWithRealClients } from '../helpers/real-clients';
import { startStack, TEMPLATES_DIR, type TestStack } from '../helpers/stack';

type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string };
interface Call {
  at: string;
  operation?: string;
  status: number;
  refused: boolean;
}

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-multipart-'));
  // The shipped templates, and one that lets the agent delete under its prefix (for `aws s3 rm --recursive`).
  const templates = path.join(dir, 'templates');
  cpSync(TEMPLATES_DIR, templates, { recursive: true });
  const scratch = readFileSync(path.join(TEMPLATES_DIR, 's3-write-prefix.yaml'), 'utf8')
    .replace('name: s3-write-prefix', 'name: s3-scratch-prefix')
    .replace(/\ngateway:\n {2}deny: .*\n/, '\n')
    .replace('Action: [s3:PutObject, s3:GetObject]', 'Action: [s3:PutObject, s3:GetObject, s3:DeleteObject]');
  writeFileSync(path.join(templates, 's3-scratch-prefix.yaml'), scratch);
  stack = await startStack({ gateway: true, configure: (raw) => (raw.templatesDir = templates) });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function gatewaySession(template = 's3-write-prefix'): Promise<{ id: string; gw: Gw }> {
  const res = await stack.vend({ template, parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' });
  expect(res.status).toBe(200);
  return { id: res.body.sessionId as string, gw: res.body.gateway as Gw };
}

/** The AWS CLI with only the gateway key pair, 5 MB parts sent one at a time. */
function cli(gw: Gw, args: string[]): { done: Promise<{ code: number; stderr: string }> } {
  writeFileSync(path.join(dir, 'config'), '[default]\ns3 =\n  multipart_threshold = 8MB\n  multipart_chunksize = 5MB\n  max_concurrent_requests = 1\n');
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    AWS_CONFIG_FILE: path.join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: os.devNull,
    AWS_ACCESS_KEY_ID: gw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gw.secretAccessKey,
    AWS_DEFAULT_REGION: gw.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
  };
  const child = spawn(AWS_CLI, ['--endpoint-url', gw.endpointUrl, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? 1, stderr }))) };
}

async function calls(id: string): Promise<Call[]> {
  const res = await request(stack.app).get(`/v1/sessions/${id}/calls?limit=500`).set('Authorization', `Bearer ${await stack.token()}`);
  return (res.body.calls ?? []) as Call[];
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describeWithRealClients("multipart uploads through the gateway with Debian's AWS CLI", () => {
  it('uploads 22 MB in five parts, each checked, and downloads it intact', async () => {
    const { id, gw } = await gatewaySession();
    const data = randomBytes(22 * 1024 * 1024);
    writeFileSync(path.join(dir, 'up.bin'), data);
    const up = await cli(gw, ['s3', 'cp', path.join(dir, 'up.bin'), 's3://backend-data/agent-out/up.bin']).done;
    expect(up).toMatchObject({ code: 0 });
    const down = await cli(gw, ['s3', 'cp', 's3://backend-data/agent-out/up.bin', path.join(dir, 'down.bin')]).done;
    expect(down).toMatchObject({ code: 0 });
    expect(sha(readFileSync(path.join(dir, 'down.bin')))).toBe(sha(data));
    const ops = await waitFor('the call records', () => calls(id), (c) => c.some((x) => x.operation === 's3:CompleteMultipartUpload'));
    expect(ops.filter((c) => c.operation === 's3:UploadPart' && c.status === 200)).toHaveLength(5);
    expect(ops.filter((c) => c.operation === 's3:CreateMultipartUpload')).toHaveLength(1);
  }, 120_000);

  it('a revocation in the middle of an upload refuses the next part; nothing is assembled', async () => {
    const { id, gw } = await gatewaySession();
    writeFileSync(path.join(dir, 'big.bin'), randomBytes(60 * 1024 * 1024));
    // AWS answers each part 300 ms late, so twelve parts take seconds and the revocation lands in the middle.
    stack.aws.aws.admin.setFaults({ latencyMs: 300 });
    let result: { code: number; stderr: string };
    let revokedAt = 0;
    try {
      const upload = cli(gw, ['s3', 'cp', path.join(dir, 'big.bin'), 's3://backend-data/agent-out/big.bin']);
      await waitFor('two parts through the gateway', () => calls(id), (c) => c.filter((x) => x.operation === 's3:UploadPart' && x.status === 200).length >= 2, 60_000);
      revokedAt = Date.now();
      const ended = await request(stack.app).delete(`/v1/sessions/${id}`).set('Authorization', `Bearer ${await stack.token()}`);
      expect(ended.status).toBe(200);
      result = await upload.done;
    } finally {
      stack.aws.aws.admin.clearFaults();
    }
    expect(result.code).not.toBe(0);
    // The refused part was answered by the gateway itself (AccessDenied) and audited with the key it claimed.
    const refused = stack.logs.filter((l) => l.event === 'gateway.call' && l.outcome === 'refused' && l.accessKeyId === gw.accessKeyId);
    expect(refused.length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/AccessDenied/);
    // Nothing reached AWS after the cut-off but at most the part already past its checkpoint, and the upload was
    // never completed: the parts before it sit in an upload AWS will never assemble.
    const forwarded = (await calls(id)).filter((c) => c.operation === 's3:UploadPart' && !c.refused);
    expect(forwarded.filter((c) => Date.parse(c.at) > revokedAt + 1000)).toEqual([]);
    expect(forwarded.length).toBeLessThan(12);
    expect((await calls(id)).some((c) => c.operation === 's3:CompleteMultipartUpload')).toBe(false);
  }, 120_000);

  it('aws s3 sync up and down, aws s3api put-object with a checksum, and aws s3 rm --recursive', async () => {
    const { gw } = await gatewaySession('s3-scratch-prefix');
    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'nested'), { recursive: true });
    const files: Record<string, Buffer> = { 'a.txt': Buffer.from('a'), 'nested/b.bin': randomBytes(9 * 1024 * 1024), 'nested/c.txt': Buffer.from('c') };
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(tree, name), data);
    expect(await cli(gw, ['s3', 'sync', tree, 's3://backend-data/agent-out/tree/']).done).toMatchObject({ code: 0 });
    const back = path.join(dir, 'back');
    expect(await cli(gw, ['s3', 'sync', 's3://backend-data/agent-out/tree/', back]).done).toMatchObject({ code: 0 });
    for (const [name, data] of Object.entries(files)) expect(sha(readFileSync(path.join(back, name)))).toBe(sha(data));
    // A second sync finds nothing to do.
    expect(await cli(gw, ['s3', 'sync', tree, 's3://backend-data/agent-out/tree/']).done).toMatchObject({ code: 0 });

    // Over HTTP botocore sends the checksum as a header; the emulator verifies it as S3 would.
    writeFileSync(path.join(dir, 'sum.txt'), 'with a checksum');
    const put = cli(gw, ['s3api', 'put-object', '--bucket', 'backend-data', '--key', 'agent-out/tree/sum.txt', '--body', path.join(dir, 'sum.txt'), '--checksum-algorithm', 'SHA256']);
    expect(await put.done).toMatchObject({ code: 0 });

    expect(await cli(gw, ['s3', 'rm', '--recursive', 's3://backend-data/agent-out/tree/']).done).toMatchObject({ code: 0 });
    rmSync(back, { recursive: true, force: true });
    expect(await cli(gw, ['s3', 'sync', 's3://backend-data/agent-out/tree/', back]).done).toMatchObject({ code: 0 });
    expect(readdirSync(back)).toEqual([]);
  }, 120_000);
});
