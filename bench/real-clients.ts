/**
 * `npm run bench:clients`: each real client (Debian's AWS CLI and boto3, the AWS SDK for JavaScript) on each
 * delivery, in real time: calls made, service requests, AssumeRoles, and seconds from a revocation (with the
 * AWS-side Deny held back) to the client's first failed call; then the start time of a cached
 * `sts-vend credentials` run (what credential_process costs per call). Needs /usr/bin/aws, boto3 for
 * /usr/bin/python3, redis-server and `npm run build` (the start time is measured on dist/, as installed).
 * The JavaScript default chain takes up to a minute to stop, so this runs for about five minutes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fromStsVend } from '../src/client/from-sts-vend';
import { CLIENTS, DELIVERIES, runScenario } from '../test/helpers/real-client-scenarios';
import { countingListen, hitsSince, missingRealClients } from '../test/helpers/real-clients';
import { startStack, type TestStack } from '../test/helpers/stack';

const CALLS = { 'aws-cli': 10, boto3: 30, 'js-sdk': 30 } as const;
const DIST_CLI = path.resolve(__dirname, '../dist/cli/main.js');

interface Row {
  client: string;
  delivery: string;
  calls: number;
  serviceHits: number;
  assumeRoles: number;
  secondsToFailure: number;
  okAfterRevoke: number;
}

async function fromStsVendRow(stack: TestStack, service: Awaited<ReturnType<typeof countingListen>>): Promise<Row> {
  const developer = 'js-sdk.from-sts-vend@example.com';
  const token = await stack.token({ email: developer });
  const s3 = new S3Client({
    endpoint: stack.aws.aws.url,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: fromStsVend({ url: service.url, token, template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } }),
  });
  const call = () => s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
  const before = { ...service.hits };
  for (let i = 0; i < CALLS['js-sdk']; i++) await call();
  const hits = hitsSince(service.hits, before);
  const assumeRoles = stack.aws.aws.admin.sessions().filter((s) => s.tags.developer === developer).length;
  stack.aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
  try {
    const ops = await stack.token({ email: 'ops@example.com', groups: ['secops'] });
    await fetch(`${service.url}/v1/revoke`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ops}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ developer, reason: 'bench', block: { durationSeconds: 600 } }),
    });
    const revokedAt = Date.now();
    let ok = 0;
    for (;;) {
      try {
        await call();
        ok += 1;
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        return { client: 'js-sdk', delivery: 'fromStsVend provider', calls: CALLS['js-sdk'], serviceHits: hits.service, assumeRoles, secondsToFailure: (Date.now() - revokedAt) / 1000, okAfterRevoke: ok };
      }
    }
  } finally {
    stack.aws.aws.admin.clearFaults();
  }
}

/** Median wall time of `node dist/cli/main.js credentials ...` once its session is cached. */
async function cachedRunSeconds(stack: TestStack, serviceUrl: string, dir: string): Promise<{ cached: number; noCache: number; help: number }> {
  const tokenFile = path.join(dir, 'start.token');
  writeFileSync(tokenFile, await stack.token({ email: 'start-time@example.com' }), { mode: 0o600 });
  const args = [DIST_CLI, 'credentials', '--template', 's3-read-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=reports/', '--url', serviceUrl, '--token-file', tokenFile];
  const env = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: path.join(dir, 'start-cache') };
  // The service runs in this process, so the runs are spawned asynchronously (spawnSync would stall it).
  const runOnce = (argv: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const t = process.hrtime.bigint();
      const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t) / 1e9) : reject(new Error(`exit ${code}`))));
    });
  const median = async (argv: string[], n: number): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) xs.push(await runOnce(argv));
    xs.sort((a, b) => a - b);
    return xs[Math.floor(n / 2)]!;
  };
  await runOnce(args); // vends and caches
  return { cached: await median(args, 11), noCache: await median([...args, '--no-cache'], 5), help: await median([DIST_CLI, '--help'], 5) };
}

async function main(): Promise<void> {
  const missing = missingRealClients();
  if (missing) throw new Error(missing);
  if (!existsSync(DIST_CLI)) throw new Error('run npm run build first (the start time is measured on dist/)');
  const stack = await startStack({ configure: (raw) => (raw.killSwitch = { marginSeconds: 0 }) });
  const service = await countingListen(stack.app);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-bench-clients-'));
  const cli = [process.execPath, DIST_CLI];
  const rows: Row[] = [];
  try {
    for (const delivery of DELIVERIES) {
      for (const client of CLIENTS) {
        console.error(`${client} on ${delivery}...`);
        const r = await runScenario({ stack, service, cli, dir }, client, delivery, CALLS[client]);
        rows.push({
          client,
          delivery,
          calls: r.calls,
          serviceHits: r.serviceHits,
          assumeRoles: r.assumeRoles,
          secondsToFailure: r.refused.end! - r.revokedAt,
          okAfterRevoke: r.okAfterRevoke.length,
        });
      }
    }
    console.error('js-sdk on the fromStsVend provider...');
    rows.push(await fromStsVendRow(stack, service));
    const start = await cachedRunSeconds(stack, service.url, dir);
    console.log('| client | delivery | calls | service requests | AssumeRoles | seconds from revoke to failure | calls that still worked |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.client} | ${r.delivery} | ${r.calls} | ${r.serviceHits} | ${r.assumeRoles} | ${r.secondsToFailure.toFixed(1)} | ${r.okAfterRevoke} |`);
    console.log('');
    console.log(`sts-vend credentials, wall time per run (median): cached ${start.cached.toFixed(3)} s, --no-cache ${start.noCache.toFixed(3)} s, --help ${start.help.toFixed(3)} s`);
    console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}; ${spawnSync('/usr/bin/aws', ['--version']).stdout.toString().trim()}`);
  } finally {
    await service.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:clients failed: ${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});
