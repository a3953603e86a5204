import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createApp } from '../app';
import { parseConfig, type Config } from '../config';
import { buildDeps, closeDeps, startDepsReconciler, type AppDeps } from '../deps';
import { startGateway } from '../gateway/gateway-server';
import { generateCa } from '../gateway/proxy-ca';
import { startDevIssuer, type DevIssuer } from './dev-issuer';
import { devRedis, type DevRedis } from './dev-redis';
import { loadLocalAwsState, startLocalAws, type LocalAws } from './local-aws';

const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_STATE = path.join(ROOT, 'policies', 'local-aws-state.yaml');

export interface DevStack {
  config: Config;
  /** Where its Redis came from (REDIS_URL, a local one, or spawned) and the prefix of every key it writes. */
  redis: { url: string; source: DevRedis['source']; keyPrefix: string };
  deps: AppDeps;
  aws: LocalAws;
  issuers: { corp: DevIssuer; ci: DevIssuer };
  serviceUrl: string;
  /** The gateway agents point AWS_ENDPOINT_URL at (gateway delivery), and HTTPS_PROXY in proxy mode. */
  gatewayUrl: string;
  /** Proxy mode's CA certificate, made for this run (its key beside it, readable by this user only). */
  caFile: string;
  banner: string;
  stop(): Promise<void>;
}

/**
 * `npm run dev`: Redis (found or started), the local AWS emulator with the example world, two dev OIDC issuers
 * (agents and CI) and the service with an example config, all on this machine. The service reaches the emulator
 * only through the standard AWS_ENDPOINT_URL and credential environment variables, as it would reach AWS.
 */
export async function startDev(opts: { port?: number; awsPort?: number; issuerPort?: number; gatewayPort?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DevStack> {
  const env = opts.env ?? process.env;
  const redis: DevRedis = await devRedis(env);
  const state = loadLocalAwsState(EXAMPLE_STATE);
  const aws = await startLocalAws({ state, port: opts.awsPort ?? 4599 });
  const corp = await startDevIssuer({ port: opts.issuerPort ?? 4600 });
  const ci = await startDevIssuer({ port: 0 });
  const serviceIdentity = state.credentials[0];
  if (!serviceIdentity) throw new Error(`${EXAMPLE_STATE}: no credentials for the service`);

  // What an operator would put in the environment of a real deployment, pointed at the emulator.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: serviceIdentity.accessKeyId,
    AWS_SECRET_ACCESS_KEY: serviceIdentity.secretAccessKey,
    AWS_REGION: state.region ?? 'us-east-1',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  // Proxy mode's CA, made for this run only, in a folder only this user can read (deleted at exit): a
  // deployment brings its own, shared by its replicas (README, "Proxy mode").
  const caDir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-dev-ca-'));
  const ca = await generateCa({ commonName: 'sts-vend dev gateway CA (this run only)', days: 7 });
  const caFile = path.join(caDir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(path.join(caDir, 'ca.key'), ca.keyPem, { mode: 0o600 });

  // A prefix of its own for each run: a shared Redis (another developer's `npm run dev`, a test) never sees
  // these keys, and stop() deletes exactly them.
  const keyPrefix = `sv-dev-${randomBytes(4).toString('hex')}:`;
  const config = parseConfig(
    {
      server: { port: opts.port ?? 8080, host: '127.0.0.1' },
      redis: { url: redis.url, keyPrefix },
      aws: { region: state.region ?? 'us-east-1' },
      issuers: [
        { name: 'corp', issuer: corp.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'AI', namespace: '', claims: { developer: 'email', project: 'project', groups: 'groups' } },
        { name: 'ci', issuer: ci.issuer, audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'CI', claims: { developer: 'actor', project: 'repository' }, boundClaims: { repository_owner: 'acme' } },
      ],
      operators: { groups: ['secops'] },
      templatesDir: path.join(ROOT, 'policies', 'templates'),
      sessions: { defaultDurationSeconds: 900, maxDurationSeconds: 3600 },
      // Gateway delivery, forwarding to the emulator (AWS_ENDPOINT_URL below); a fresh server key per run.
      // Proxy mode on the same listener: HTTPS_PROXY for clients that use AWS host names.
      gateway: { enabled: true, port: opts.gatewayPort ?? 4601, host: '127.0.0.1', proxy: { enabled: true, caCertFile: caFile, caKeyFile: path.join(caDir, 'ca.key') } },
      // The operator console at /console: sign in through the corp dev issuer with an email in group secops.
      console: { enabled: true },
    },
    { PORT: env.PORT, AWS_ENDPOINT_URL: aws.url, STS_VEND_GATEWAY_KEY: randomBytes(32).toString('base64url') },
  );
  const deps = await buildDeps(config);
  const reconciler = startDepsReconciler(deps);
  const server: Server = createApp(deps).listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as { port: number }).port;
  const serviceUrl = `http://127.0.0.1:${port}`;
  const gateway = await startGateway(deps);
  const token = await corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 8 * 3600 });

  const redisInfo = { url: redactedUrl(redis.url), source: redis.source, keyPrefix };
  return {
    config,
    redis: redisInfo,
    deps,
    aws,
    issuers: { corp, ci },
    serviceUrl,
    gatewayUrl: gateway.url,
    caFile,
    banner: banner({ serviceUrl, awsUrl: aws.url, gatewayUrl: gateway.url, issuer: corp.issuer, token, redis: redisInfo, caDir }),
    stop: async () => {
      await gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await reconciler.stop();
      await deleteKeys(deps.redis as Redis, keyPrefix);
      await closeDeps(deps);
      await Promise.all([aws.stop(), corp.stop(), ci.stop()]);
      await redis.stop();
      rmSync(caDir, { recursive: true, force: true });
    },
  };
}

/**
 * Deletes every key under the run's prefix (sessions, revocations, the kill-switch hash, the reconciler's
 * queue: some of them have no TTL, as the service owns their cleanup), so a shared Redis is left as it was.
 */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** A Redis URL without its password, for the banner. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'redis';
  }
}

const REDIS_SOURCE: Record<DevRedis['source'], string> = {
  REDIS_URL: 'from REDIS_URL',
  local: 'the one answering on 127.0.0.1:6379',
  spawned: 'a redis-server started for this run, in a temporary folder',
};

/** The walkthrough printed at start: every command is ready to paste. */
export function banner(p: {
  serviceUrl: string;
  awsUrl: string;
  gatewayUrl: string;
  issuer: string;
  token: string;
  redis: { url: string; source: DevRedis['source']; keyPrefix: string };
  caDir: string;
}): string {
  const vend = `curl -s -X POST ${p.serviceUrl}/v1/vend -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"template":"s3-read-prefix","parameters":{"bucket":"backend-data","prefix":"reports/"}}'`;
  const toEnv = `node -e 'const c=JSON.parse(require("fs").readFileSync(0,"utf8")).credentials;console.log("export AWS_ACCESS_KEY_ID="+c.accessKeyId+" AWS_SECRET_ACCESS_KEY="+c.secretAccessKey+" AWS_SESSION_TOKEN="+c.sessionToken)'`;
  return [
    '',
    'sts-vend is running locally (no AWS account involved):',
    `  service         ${p.serviceUrl}`,
    `  local AWS       ${p.awsUrl}   (STS, IAM, S3; example world in policies/local-aws-state.yaml)`,
    `  dev OIDC issuer ${p.issuer}   (POST ${p.issuer}/token mints tokens, valid 10 minutes unless expiresInSeconds says otherwise)`,
    `  redis           ${p.redis.url}   (${REDIS_SOURCE[p.redis.source]}; keys ${p.redis.keyPrefix}*, deleted at exit)`,
    `  console         ${p.serviceUrl}/console   (sign in with any email, groups: secops)`,
    '',
    'Vend credentials for alice@example.com (group backend, project backend-api) to read backend-data/reports/',
    '(the token below is valid 8 hours):',
    '',
    `  export TOKEN=${p.token}`,
    `  ${vend}`,
    '',
    'Use them with the AWS CLI against the local S3. The policy allows GetObject and listing under reports/ only:',
    'the first prints the file, the second fails with "(403) when calling the HeadObject operation: Forbidden",',
    'the third with "(AccessDenied) when calling the DeleteObject operation":',
    '',
    `  eval "$(${vend} | ${toEnv})"`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 cp s3://backend-data/reports/2026/q3.csv -`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 cp s3://backend-data/exports/users.csv -`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 rm s3://backend-data/reports/2026/q3.csv`,
    '',
    ...gatewayWalkthrough(p),
    ...proxyWalkthrough(p),
  ].join('\n');
}

/**
 * Proxy mode: the same gateway as HTTPS_PROXY, for clients that cannot be given an endpoint. The CLI writes the
 * dev CA's certificate to a file and prints the variables; the AWS CLI then uses AWS's own host names.
 */
function proxyWalkthrough(p: { serviceUrl: string; gatewayUrl: string; caDir: string }): string[] {
  const cli = `STS_VEND_URL=${p.serviceUrl} STS_VEND_TOKEN=$TOKEN npx tsx src/cli/main.ts`;
  return [
    `Proxy mode (HTTPS_PROXY=${p.gatewayUrl}): for clients that cannot be pointed at an endpoint. No endpoint URL;`,
    'the AWS CLI calls s3.amazonaws.com and sts.amazonaws.com, and the gateway answers for them with certificates',
    `from its CA (made for this run, in ${p.caDir}). A host that is not AWS is refused. From the repository folder:`,
    '',
    `  eval "$(${cli} gateway --proxy --ca-file ${path.join(p.caDir, 'agent-ca.pem')} --template s3-write-prefix --param bucket=backend-data --param prefix=agent-out/)"`,
    '  echo proxied | aws s3 cp - s3://backend-data/agent-out/proxied.txt',
    '  aws s3 ls s3://backend-data/agent-out/',
    '  aws sts get-caller-identity',
    '  curl -sS https://example.com/',
    '',
  ];
}

/**
 * Gateway delivery: the shell holds only gateway credentials (no AWS secret); every call goes through the
 * gateway, which checks, signs and logs it. Debian's AWS CLI 2.9 ignores AWS_ENDPOINT_URL, hence --endpoint-url.
 */
function gatewayWalkthrough(p: { serviceUrl: string; gatewayUrl: string }): string[] {
  const vend = `curl -s -X POST ${p.serviceUrl}/v1/vend -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"template":"s3-write-prefix","parameters":{"bucket":"backend-data","prefix":"agent-out/"},"delivery":"gateway"}'`;
  const toEnv = `node -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8")),g=b.gateway;console.log("unset AWS_SESSION_TOKEN; export AWS_ACCESS_KEY_ID="+g.accessKeyId+" AWS_SECRET_ACCESS_KEY="+g.secretAccessKey+" AWS_ENDPOINT_URL="+g.endpointUrl+" AWS_DEFAULT_REGION="+g.region+" SESSION="+b.sessionId)'`;
  const gw = `aws --endpoint-url ${p.gatewayUrl}`;
  return [
    `Gateway delivery (gateway ${p.gatewayUrl}): the shell gets gateway credentials only, never an AWS secret;`,
    'every call is checked against the session, signed by sts-vend and logged. Write, list, read back:',
    '',
    `  eval "$(${vend} | ${toEnv})"`,
    `  echo hello | ${gw} s3 cp - s3://backend-data/agent-out/hello.txt`,
    `  ${gw} s3 ls s3://backend-data/agent-out/`,
    `  ${gw} s3 cp s3://backend-data/agent-out/hello.txt -`,
    '',
    'A delete, refused by the template\'s gateway rule before it reaches AWS; then the calls the session made:',
    '',
    `  ${gw} s3 rm s3://backend-data/agent-out/hello.txt`,
    `  curl -s ${p.serviceUrl}/v1/sessions/$SESSION/calls -H "Authorization: Bearer $TOKEN"`,
    '',
    'End the session: the very next call is refused.',
    '',
    `  curl -s -X DELETE ${p.serviceUrl}/v1/sessions/$SESSION -H "Authorization: Bearer $TOKEN"`,
    `  ${gw} s3 ls s3://backend-data/agent-out/`,
    '',
  ];
}

if (require.main === module) {
  startDev().then(
    (stack) => {
      console.log(stack.banner);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => void stack.stop().then(() => process.exit(0), () => process.exit(1)));
      }
    },
    (err: unknown) => {
      console.error(`npm run dev failed: ${(err as Error)?.message ?? String(err)}`);
      process.exit(1);
    },
  );
}
