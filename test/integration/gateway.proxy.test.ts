/**
 * Proxy mode with the stock clients: Debian's AWS CLI 2.9 and boto3 1.26, which ignore AWS_ENDPOINT_URL, given
 * only HTTPS_PROXY, the gateway's CA bundle and gateway credentials, reach "AWS" (the emulator, through the
 * gateway's endpoint overrides) by its real host names: large copies both ways, a sync, boto3 calls, and a
 * revocation in the middle of a multipart upload. Also: the proxy refuses non-AWS destinations unless allow-listed
 * (then tunnels them), mints one certificate per host and reuses it, holds each tunnel to its host, and never
 * lets the CA key out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { createMetricsApp } from '../../src/app';
import { waitFor } from '../helpers/kill-switch';
import { connect, proxyClientEnv, startProxyStack, tlsThrough, writeCliConfig, type Gw, type ProxyStack } from '../helpers/proxy';
import { AWS_CLI, describeWithRealClients, PYTHON, run } from '../helpers/real-clients';

interface Call {
  at: string;
  operation?: string;
  status: number;
  refused: boolean;
}

let p: ProxyStack;
let echo: net.Server;
let echoPort: number;
beforeAll(async () => {
  // An allow-listed destination that is not AWS: it answers what it is sent, to show the tunnel is untouched.
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
  p = await startProxyStack({ allow: [`127.0.0.1:${echoPort}`] });
}, 60_000);
afterAll(async () => {
  await p?.stop();
  echo?.close();
});

async function gatewaySession(template = 's3-write-prefix', parameters: Record<string, string> = { bucket: 'backend-data', prefix: 'agent-out/' }): Promise<{ id: string; gw: Gw }> {
  const res = await p.stack.vend({ template, parameters, delivery: 'gateway' });
  expect(res.status).toBe(200);
  return { id: res.body.sessionId as string, gw: res.body.gateway as Gw };
}

const aws = (gw: Gw, args: string[]) => run(AWS_CLI, args, proxyClientEnv(p, gw, { AWS_MAX_ATTEMPTS: '1' }));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
async function calls(id: string): Promise<Call[]> {
  const res = await request(p.stack.app).get(`/v1/sessions/${id}/calls?limit=500`).set('Authorization', `Bearer ${await p.stack.token()}`);
  return (res.body.calls ?? []) as Call[];
}

describe('a gateway vend in proxy mode', () => {
  it('answers the proxy URL and the CA certificate beside the gateway credentials, and no CA key', async () => {
    const res = await p.stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, delivery: 'gateway' });
    expect(res.status).toBe(200);
    expect(res.body.gateway).toMatchObject({ proxyUrl: p.proxyUrl, caBundle: readFileSync(p.caFile, 'utf8') });
    expect(res.body.gateway.caBundle).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(res.text).not.toContain('PRIVATE KEY');
  });
});

describe('destinations', () => {
  it('refuses a CONNECT to a host that is not AWS, with a code, and logs it', async () => {
    const answer = await connect(p.proxyUrl, 'example.com:443');
    answer.socket.destroy();
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'destination_not_allowed', message: expect.stringContaining('example.com:443 is not an AWS endpoint') } });
    expect(p.stack.logs).toContainEqual(expect.objectContaining({ event: 'gateway.connect', outcome: 'refused', destination: 'example.com:443' }));
  });

  it('refuses look-alikes of AWS hosts, an AWS host on another port and a malformed target', async () => {
    for (const target of ['s3.amazonaws.com.evil.example:443', 'evil-amazonaws.com:443', 'notaservice.us-east-1.amazonaws.com:443', 's3.amazonaws.com:8443']) {
      const answer = await connect(p.proxyUrl, target);
      answer.socket.destroy();
      expect([target, answer.status]).toEqual([target, 403]);
    }
    const bad = await connect(p.proxyUrl, 'under_score.example:443');
    bad.socket.destroy();
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid_request');
  });

  it('refuses an absolute-form plain-HTTP request to a non-AWS host', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = net.connect(Number(new URL(p.proxyUrl).port), '127.0.0.1', () => s.write('GET http://example.com/secret HTTP/1.1\r\nHost: example.com\r\n\r\n'));
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.once('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
      s.once('error', reject);
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('destination_not_allowed');
  });

  it('tunnels an allow-listed destination without looking inside', async () => {
    const answer = await connect(p.proxyUrl, `127.0.0.1:${echoPort}`);
    expect(answer.status).toBe(200);
    const payload = randomBytes(64 * 1024);
    const back = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let n = 0;
      answer.socket.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (n >= payload.length) resolve(Buffer.concat(chunks));
      });
      answer.socket.write(payload);
    });
    answer.socket.destroy();
    expect(back.equals(payload)).toBe(true);
    expect(p.stack.logs).toContainEqual(expect.objectContaining({ event: 'gateway.connect', outcome: 'allowed', mode: 'tunnelled', destination: `127.0.0.1:${echoPort}` }));
  });

  it('holds a tunnel to its host: another SNI fails the handshake; another Host or service is refused', async () => {
    const ca = readFileSync(p.caFile, 'utf8');
    const sni = await connect(p.proxyUrl, 's3.amazonaws.com:443');
    expect(sni.status).toBe(200);
    await expect(tlsThrough(sni.socket, ca, 'sts.amazonaws.com')).rejects.toThrow();
    sni.socket.destroy();

    const { gw } = await gatewaySession();
    const scope = (service: string) => `AWS4-HMAC-SHA256 Credential=${gw.accessKeyId}/${new Date().toISOString().slice(0, 10).replace(/-/g, '')}/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
    const ask = async (host: string, service: string): Promise<string> => {
      const t = await connect(p.proxyUrl, 's3.amazonaws.com:443');
      const secure = await tlsThrough(t.socket, ca, 's3.amazonaws.com');
      const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
      secure.write(`GET /backend-data HTTP/1.1\r\nHost: ${host}\r\nX-Amz-Date: ${amzDate}\r\nX-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\nAuthorization: ${scope(service)}\r\nConnection: close\r\n\r\n`);
      let text = '';
      secure.on('data', (c: Buffer) => (text += c.toString()));
      await new Promise((resolve) => secure.once('close', resolve));
      return text;
    };
    expect(await ask('sts.amazonaws.com', 's3')).toMatch(/^HTTP\/1\.1 400[\s\S]*not the host this connection was opened to/);
    expect(await ask('s3.amazonaws.com', 'sts')).toMatch(/^HTTP\/1\.1 400[\s\S]*endpoint of s3, but the request is signed for sts/);
    // Past the host checks, the made-up signature is what fails: the checks above came first.
    expect(await ask('s3.amazonaws.com', 's3')).toMatch(/^HTTP\/1\.1 403[\s\S]*SignatureDoesNotMatch/);
  });
});

describeWithRealClients("Debian's AWS CLI and boto3 through the proxy, with only HTTPS_PROXY, a CA bundle and gateway credentials", () => {
  it('copies 50 MB up and down (multipart), the bytes unchanged, and reuses one certificate per host', async () => {
    const { id, gw } = await gatewaySession();
    writeCliConfig(p);
    const data = randomBytes(50 * 1024 * 1024);
    const file = path.join(p.dir, 'fifty.bin');
    writeFileSync(file, data);
    const terminated = () => p.stack.logs.filter((l) => l.event === 'gateway.connect' && l.mode === 'terminated').map((l) => String(l.destination));
    const hostsBefore = new Set(terminated());
    const connectionsBefore = terminated().length;
    const mintedBefore = p.stack.gateway!.ca!.minted;
    const up = await aws(gw, ['s3', 'cp', file, 's3://backend-data/agent-out/fifty.bin']);
    expect(up).toMatchObject({ code: 0 });
    const down = await aws(gw, ['s3', 'cp', 's3://backend-data/agent-out/fifty.bin', path.join(p.dir, 'fifty.down')]);
    expect(down).toMatchObject({ code: 0 });
    expect(sha(readFileSync(path.join(p.dir, 'fifty.down')))).toBe(sha(data));
    const head = await aws(gw, ['s3api', 'head-object', '--bucket', 'backend-data', '--key', 'agent-out/fifty.bin']);
    expect(JSON.parse(head.stdout)).toMatchObject({ ContentLength: data.length });
    // Three CLI processes and many TLS connections (parts go up ten at a time), to the bucket's AWS host name: one
    // certificate per host name new to this process, minted at its first connection and reused by the rest.
    const newHosts = [...new Set(terminated())].filter((h) => !hostsBefore.has(h));
    expect(newHosts.length).toBeGreaterThan(0);
    expect(newHosts.every((h) => h.endsWith('.amazonaws.com:443'))).toBe(true);
    expect(terminated().length - connectionsBefore).toBeGreaterThan(newHosts.length * 3);
    expect(p.stack.gateway!.ca!.minted - mintedBefore).toBe(newHosts.length);
    const metrics = await request(createMetricsApp(p.stack.deps)).get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`sts_vend_gateway_proxy_certificates_minted_total ${p.stack.gateway!.ca!.minted}\\b`));
    const ops = await waitFor('the call records', () => calls(id), (c) => c.some((x) => x.operation === 's3:CompleteMultipartUpload'));
    expect(ops.filter((c) => c.operation === 's3:UploadPart' && c.status === 200).length).toBeGreaterThanOrEqual(6);
    expect(ops.filter((c) => c.refused)).toEqual([]);
  }, 180_000);

  it('syncs a small tree and lists it back', async () => {
    const { gw } = await gatewaySession();
    writeCliConfig(p);
    const tree = path.join(p.dir, 'tree');
    mkdirSync(path.join(tree, 'sub'), { recursive: true });
    const files = { 'a.txt': 'alpha', 'b.json': '{"b":1}', 'sub/c.txt': 'gamma' };
    for (const [name, body] of Object.entries(files)) writeFileSync(path.join(tree, name), body);
    const sync = await aws(gw, ['s3', 'sync', tree, 's3://backend-data/agent-out/tree/']);
    expect(sync).toMatchObject({ code: 0 });
    const ls = await aws(gw, ['s3', 'ls', '--recursive', 's3://backend-data/agent-out/tree/']);
    expect(ls.code).toBe(0);
    for (const name of Object.keys(files)) expect(ls.stdout).toContain(`agent-out/tree/${name}`);
    // A second sync finds nothing to send.
    const again = await aws(gw, ['s3', 'sync', tree, 's3://backend-data/agent-out/tree/']);
    expect(again).toMatchObject({ code: 0, stdout: '' });
  }, 120_000);

  it('serves boto3 calls to S3 and STS by their AWS host names', async () => {
    const { gw } = await gatewaySession();
    const script = `
import json, boto3
s = boto3.session.Session(region_name='us-east-1')
s3 = s.client('s3')
s3.put_object(Bucket='backend-data', Key='agent-out/boto.txt', Body=b'from boto3')
body = s3.get_object(Bucket='backend-data', Key='agent-out/boto.txt')['Body'].read().decode()
keys = [o['Key'] for o in s3.list_objects_v2(Bucket='backend-data', Prefix='agent-out/boto')['Contents']]
arn = s.client('sts').get_caller_identity()['Arn']
# Plain HTTP through HTTP_PROXY: absolute-form requests (GET http://s3.amazonaws.com/...), served the same way.
plain = s.client('s3', use_ssl=False)
plain_body = plain.get_object(Bucket='backend-data', Key='agent-out/boto.txt')['Body'].read().decode()
print(json.dumps({'body': body, 'keys': keys, 'arn': arn, 'endpoint': s3.meta.endpoint_url, 'plain': plain_body, 'plainEndpoint': plain.meta.endpoint_url}))
`;
    const before = p.stack.logs.length;
    const out = await run(PYTHON, ['-c', script], proxyClientEnv(p, gw, { HTTP_PROXY: p.proxyUrl }));
    expect(out).toMatchObject({ code: 0 });
    const r = JSON.parse(out.stdout) as { body: string; keys: string[]; arn: string; endpoint: string; plain: string; plainEndpoint: string };
    expect(r).toMatchObject({ body: 'from boto3', keys: ['agent-out/boto.txt'], arn: expect.stringMatching(/^arn:aws:sts::\d{12}:assumed-role\//), plain: 'from boto3' });
    expect(r.endpoint).toMatch(/^https:\/\/.*amazonaws\.com$/);
    expect(r.plainEndpoint).toMatch(/^http:\/\/.*amazonaws\.com$/);
    const modes = p.stack.logs.slice(before).filter((l) => l.event === 'gateway.connect').map((l) => String(l.destination));
    expect(modes.some((d) => d.endsWith('.amazonaws.com:80'))).toBe(true);
    expect(modes.some((d) => d.endsWith('.amazonaws.com:443'))).toBe(true);
  }, 60_000);

  it('a revocation in the middle of a multipart upload refuses the next part; nothing is assembled', async () => {
    const { id, gw } = await gatewaySession();
    writeCliConfig(p, { multipart_threshold: '8MB', multipart_chunksize: '5MB', max_concurrent_requests: '1' });
    const file = path.join(p.dir, 'big.bin');
    writeFileSync(file, randomBytes(40 * 1024 * 1024));
    // AWS answers each part 300 ms late, so eight parts take seconds and the revocation lands in the middle.
    p.stack.aws.aws.admin.setFaults({ latencyMs: 300 });
    let result: { code: number | null; stderr: string };
    let revokedAt = 0;
    try {
      const upload = aws(gw, ['s3', 'cp', file, 's3://backend-data/agent-out/big.bin']);
      await waitFor('two parts through the proxy', () => calls(id), (c) => c.filter((x) => x.operation === 's3:UploadPart' && x.status === 200).length >= 2, 60_000);
      revokedAt = Date.now();
      const ended = await request(p.stack.app).delete(`/v1/sessions/${id}`).set('Authorization', `Bearer ${await p.stack.token()}`);
      expect(ended.status).toBe(200);
      result = await upload;
    } finally {
      p.stack.aws.aws.admin.clearFaults();
    }
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/AccessDenied/);
    const after = await calls(id);
    const forwarded = after.filter((c) => c.operation === 's3:UploadPart' && !c.refused);
    expect(forwarded.filter((c) => Date.parse(c.at) > revokedAt + 1000)).toEqual([]);
    expect(forwarded.length).toBeLessThan(8);
    expect(after.some((c) => c.operation === 's3:CompleteMultipartUpload')).toBe(false);
  }, 120_000);
});

describe('the CA key', () => {
  it('appears in no log line, no Redis key or value, no answer and no metric', async () => {
    const body = p.caKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
    const pieces = [body, body.slice(0, 40), body.slice(-40), 'PRIVATE KEY'];
    const answers: string[] = [];
    answers.push((await p.stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, delivery: 'gateway' })).text);
    answers.push((await request(createMetricsApp(p.stack.deps)).get('/metrics')).text);
    const refused = await connect(p.proxyUrl, 'example.com:443');
    refused.socket.destroy();
    answers.push(refused.head + refused.body);
    // Every key this stack wrote, and every value (strings, hashes, lists, sets, sorted sets), as text.
    const redis = p.stack.deps.redis as import('ioredis').Redis;
    const keys = await redis.keys(`${p.stack.redis.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    const stored: string[] = [...keys];
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
          : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
            : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
              : type === 'set' ? JSON.stringify(await redis.smembers(key))
                : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1))
                  : '';
      stored.push(value ?? '');
    }
    for (const piece of pieces) {
      expect(p.stack.rawLogs.filter((l) => l.includes(piece))).toEqual([]);
      expect(stored.filter((s) => s.includes(piece))).toEqual([]);
      expect(answers.filter((a) => a.includes(piece))).toEqual([]);
    }
  });
});

describe('closing the gateway', () => {
  it('closes idle TLS tunnels at once, ends an open tunnel at the drain deadline, and finishes', async () => {
    const q = await startProxyStack({ allow: [`127.0.0.1:${echoPort}`], stack: { configure: (raw) => void ((raw.server as Record<string, unknown>).drainSeconds = 2) } });
    const closed: string[] = [];
    try {
      const idle = await connect(q.proxyUrl, 's3.amazonaws.com:443');
      const secure = await tlsThrough(idle.socket, readFileSync(q.caFile, 'utf8'), 's3.amazonaws.com');
      secure.on('error', () => undefined).once('close', () => closed.push('idle TLS tunnel'));
      const tunnel = await connect(q.proxyUrl, `127.0.0.1:${echoPort}`);
      tunnel.socket.on('error', () => undefined).once('close', () => closed.push('allow-listed tunnel'));
      await q.stack.gateway!.close();
      await waitFor('both closed', async () => closed.length, (n) => n === 2, 10_000);
    } finally {
      await q.stop();
    }
    expect(closed).toEqual(['idle TLS tunnel', 'allow-listed tunnel']);
  }, 60_000);
});
