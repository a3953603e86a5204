/**
 * `docker compose --profile dev up sts-vend-dev` without Docker: the image's /app is assembled in a temporary
 * folder from the Dockerfile's COPY lines, each dev service's compose command runs from it with node and is
 * started only once its compose healthcheck passes (as `depends_on: service_healthy`), and the walkthrough works
 * through the published ports. Compose service names become 127.0.0.1 and free ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeJwt } from 'jose';
import ts from 'typescript';
import { parse as parseYaml, stringify } from 'yaml';
import { startRedis, type TestRedis } from '../helpers/redis';
import { argOf, copyOf, envOf, execForm, hostPathOf, imageOf, loadCompose, loadDockerfile, read, ROOT, type Service } from './compose-model';
import { freePort } from '../../src/dev/dev-redis';

jest.setTimeout(60_000);

const { services } = loadCompose();
const stages = loadDockerfile();
// Every dev profile service runs the dev image (the production image plus the emulator and the dev issuers).
const runtime = imageOf(stages, 'dev');
const imageEnv = envOf(runtime);
const service = (name: string): Service => services.get(name)!;
const DEV = ['local-aws', 'dev-issuer', 'dev-issuer-ci', 'sts-vend-dev'];

const TMP = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-compose-'));
const APP = path.join(TMP, 'app');
let redis: TestRedis;
/** `service:containerPort` -> `host:port` reachable from this test. */
const published = new Map<string, string>();
const running = new Map<string, { child: ChildProcess; output: () => string }>();

/** Compose service URLs (`//local-aws:4599`) as this test reaches them. */
const rewrite = (text: string): string => text.replace(/\/\/([a-z][a-z0-9-]*):(\d+)/g, (m, svc: string, port: string) => `//${published.get(`${svc}:${port}`) ?? m.slice(2)}`);
const portOf = (svc: string, containerPort: number | string): number => Number(published.get(`${svc}:${containerPort}`)!.split(':')[1]);

/** What a service's container would see: /app is APP, mounts are the repo files, URLs are rewritten. */
function processFor(s: Service, args: string[]): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: TMP, ...imageEnv };
  for (const [k, v] of Object.entries(s.env)) env[k] = rewrite(v);
  const mapped = args.map((a) => (a.startsWith('/') ? (hostPathOf(s, a, APP) ?? a) : rewrite(a)));
  const flag = mapped.indexOf('--port');
  if (flag >= 0) mapped[flag + 1] = String(portOf(s.name, mapped[flag + 1]!));
  // The emulator needs no other interface; the dev issuers keep 0.0.0.0 to exercise --allow-mint.
  if (s.name === 'local-aws' && argOf(mapped, '--host') === '0.0.0.0') mapped[mapped.indexOf('--host') + 1] = '127.0.0.1';
  if (s.name === 'sts-vend-dev') Object.assign(env, { STS_VEND_CONFIG: path.join(TMP, 'sts-vend-dev.yaml'), PORT: String(portOf(s.name, 8080)) });
  return { args: mapped, env };
}

/** Runs a service's compose healthcheck (`[CMD, ...]`) as its container would; true on exit 0. */
function healthy(s: Service): boolean {
  const [, ...cmd] = s.healthcheck!;
  const probe = cmd.map((a) => a.replace(/127\.0\.0\.1:(\d+)/, (_m, p: string) => `127.0.0.1:${portOf(s.name, p)}`));
  const { args, env } = processFor(s, probe.slice(1));
  return spawnSync(probe[0]!, args, { cwd: APP, env, timeout: 10_000 }).status === 0;
}

async function start(s: Service): Promise<void> {
  const command = s.command.length > 0 ? s.command : execForm(runtime.find((i) => i.op === 'CMD')!.args);
  const { args, env } = processFor(s, command.slice(1));
  const child = spawn(command[0]!, args, { cwd: APP, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  running.set(s.name, { child, output: () => out });
  // Probing costs a node start, so wait for the process to say it listens first.
  for (let i = 0; !out.includes('listening') || !healthy(s); i++) {
    if (child.exitCode !== null || i > 300) throw new Error(`${s.name} never became healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The build stage's `npm run build:dev` (`tsc -p tsconfig.dev.json`, what the dev image's dist is) emitting into
 * `outDir`: the same files from the same compiler options, transpiled per file. Type errors are `npm run lint`'s
 * to catch; a full type-checking compile here would triple this file's run time.
 */
function build(outDir: string): void {
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['build:dev']!;
  const [, project] = /^tsc -p (\S+)$/.exec(script) ?? [];
  if (!project) throw new Error(`unexpected build script: ${script}`);
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, project), { outDir }, host)!;
  for (const file of parsed.fileNames) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { ...parsed.options, sourceMap: false }, fileName: file });
    const out = path.join(outDir, path.relative(parsed.options.rootDir!, file).replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

beforeAll(async () => {
  build(path.join(APP, 'dist'));
  const workdir = stages[0]!.find((i) => i.op === 'WORKDIR')!.args;
  for (const c of runtime.filter((i) => i.op === 'COPY').map(copyOf)) {
    const rel = c.from ? path.posix.relative(workdir, c.sources[0]!) : c.sources[0]!;
    const dest = path.join(APP, c.dest);
    if (c.dest === './dist') continue; // compiled above
    if (rel === 'node_modules') symlinkSync(path.join(ROOT, rel), dest, 'dir');
    else cpSync(path.join(ROOT, rel), dest, { recursive: true });
  }

  redis = await startRedis();
  published.set('redis:6379', new URL(redis.url).host);
  for (const name of DEV) for (const p of service(name).ports) published.set(`${name}:${p.container}`, `127.0.0.1:${await freePort()}`);

  // The dev config as mounted, with compose names rewritten and the test Redis's key prefix.
  const dev = service('sts-vend-dev');
  const config = parseYaml(rewrite(readFileSync(hostPathOf(dev, imageEnv.STS_VEND_CONFIG!)!, 'utf8'))) as Record<string, unknown> & { redis: Record<string, string> };
  config.templatesDir = hostPathOf(dev, path.posix.resolve(path.posix.dirname(imageEnv.STS_VEND_CONFIG!), String(config.templatesDir)));
  config.redis.keyPrefix = redis.keyPrefix;
  writeFileSync(path.join(TMP, 'sts-vend-dev.yaml'), stringify(config));

  for (const name of DEV) await start(service(name));
}, 240_000);

afterAll(async () => {
  await Promise.all([...running.values()].map(({ child }) => stop(child)));
  await redis?.stop();
  rmSync(TMP, { recursive: true, force: true });
});

it('assembles /app with every file the image runs: CMD, HEALTHCHECK and the dev commands', () => {
  const files = [
    ...execForm(runtime.find((i) => i.op === 'CMD')!.args),
    ...execForm(runtime.find((i) => i.op === 'HEALTHCHECK')!.args),
    ...DEV.flatMap((n) => service(n).command),
  ].filter((a) => a.startsWith('dist/'));
  expect(files).toEqual(expect.arrayContaining(['dist/main.js', 'dist/startup/healthcheck.js', 'dist/dev/local-aws/main.js', 'dist/dev/dev-issuer-main.js']));
  for (const f of files) expect([f, existsSync(path.join(APP, f))]).toEqual([f, true]);
  expect(existsSync(path.join(APP, 'openapi.yaml'))).toBe(true);
});

it('vends with a dev issuer token, and the credentials read the allowed prefix of the emulator S3 only', async () => {
  const token = await mint('dev-issuer', { email: 'alice@example.com', groups: ['backend'], project: 'backend-api' });
  expect(decodeJwt(token).iss).toBe(rewrite(argOf(service('dev-issuer').command, '--public-url')!));
  const res = await fetch(`http://${published.get('sts-vend-dev:8080')}/v1/vend`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } }),
  });
  const body = (await res.json()) as { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };
  expect([res.status, body.credentials?.accessKeyId?.slice(0, 4)]).toEqual([200, 'ASIA']);
  const { accessKeyId, secretAccessKey, sessionToken } = body.credentials;
  const s3 = new S3Client({ endpoint: `http://${published.get('local-aws:4599')}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey, sessionToken }, maxAttempts: 1 });
  const allowed = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' }));
  expect((await allowed.Body!.transformToString()).length).toBeGreaterThan(0);
  await expect(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' }))).rejects.toMatchObject({ name: 'AccessDenied' });
});

it('accepts CI tokens from the second dev issuer', async () => {
  const token = await mint('dev-issuer-ci', { sub: 'repo:acme/api:ref:refs/heads/main', claims: { actor: 'octocat', repository: 'acme/api', repository_owner: 'acme' } });
  const res = await fetch(`http://${published.get('sts-vend-dev:8080')}/v1/templates`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { templates: Array<{ name: string }> };
  expect([res.status, body.templates?.map((t) => t.name)]).toEqual([200, ['ci-deploy']]);
});

it("logs the emulator's endpoints and identity at start, with the long-lived key warning", () => {
  const logs = running.get('sts-vend-dev')!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const endpoint = `http://${published.get('local-aws:4599')}`;
  expect(logs.find((l) => l.msg === 'aws endpoints in use')).toMatchObject({ sts: { url: endpoint, source: 'AWS_ENDPOINT_URL' }, iam: { url: endpoint } });
  expect(logs.find((l) => l.msg === 'aws identity')).toMatchObject({ arn: 'arn:aws:iam::111122223333:user/sts-vend', account: '111122223333' });
  expect(logs.some((l) => l.level === 40 && String(l.msg).includes('long-lived'))).toBe(true);
});

it('offers minting on 0.0.0.0 only with --allow-mint', async () => {
  const s = service('dev-issuer');
  const port = await freePort();
  const args = s.command.slice(1).filter((a) => a !== '--allow-mint').map((a) => (a === argOf(s.command, '--port') ? String(port) : a));
  const child = spawn(s.command[0]!, args, { cwd: APP, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const out = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => /\n {2}mint .*\n/.test((text += d.toString())) && resolve(text));
    });
    expect(out).toContain('mint    disabled');
    const res = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  } finally {
    await stop(child);
  }
});

async function mint(issuer: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`http://${published.get(`${issuer}:${argOf(service(issuer).command, '--port')}`)}/token`, {
    method: 'POST',
    headers: { accept: 'text/plain', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.text();
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

