import type { Server } from 'node:http';
import path from 'node:path';
import { createApp } from '../app';
import { parseConfig, type Config } from '../config';
import { buildDeps, closeDeps, startDepsReconciler, type AppDeps } from '../deps';
import { startDevIssuer, type DevIssuer } from './dev-issuer';
import { devRedis, type DevRedis } from './dev-redis';
import { loadLocalAwsState, startLocalAws, type LocalAws } from './local-aws';

const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_STATE = path.join(ROOT, 'policies', 'local-aws-state.yaml');

export interface DevStack {
  config: Config;
  deps: AppDeps;
  aws: LocalAws;
  issuers: { corp: DevIssuer; ci: DevIssuer };
  serviceUrl: string;
  banner: string;
  stop(): Promise<void>;
}

/**
 * `npm run dev`: Redis (found or started), the local AWS emulator with the example world, two dev OIDC issuers
 * (agents and CI) and the service with an example config, all on this machine. The service reaches the emulator
 * only through the standard AWS_ENDPOINT_URL and credential environment variables, as it would reach AWS.
 */
export async function startDev(opts: { port?: number; awsPort?: number; issuerPort?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DevStack> {
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

  const config = parseConfig(
    {
      server: { port: opts.port ?? 8080, host: '127.0.0.1' },
      redis: { url: redis.url, keyPrefix: 'sv-dev:' },
      aws: { region: state.region ?? 'us-east-1' },
      issuers: [
        { name: 'corp', issuer: corp.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'AI', namespace: '', claims: { developer: 'email', project: 'project', groups: 'groups' } },
        { name: 'ci', issuer: ci.issuer, audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'CI', claims: { developer: 'actor', project: 'repository' }, boundClaims: { repository_owner: 'acme' } },
      ],
      operators: { groups: ['secops'] },
      templatesDir: path.join(ROOT, 'policies', 'templates'),
      sessions: { defaultDurationSeconds: 900, maxDurationSeconds: 3600 },
      // The operator console at /console: sign in through the corp dev issuer with an email in group secops.
      console: { enabled: true },
    },
    { PORT: env.PORT },
  );
  const deps = await buildDeps(config);
  const reconciler = startDepsReconciler(deps);
  const server: Server = createApp(deps).listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as { port: number }).port;
  const serviceUrl = `http://127.0.0.1:${port}`;
  const token = await corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 8 * 3600 });

  return {
    config,
    deps,
    aws,
    issuers: { corp, ci },
    serviceUrl,
    banner: banner({ serviceUrl, awsUrl: aws.url, issuer: corp.issuer, token }),
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await reconciler.stop();
      await closeDeps(deps);
      await Promise.all([aws.stop(), corp.stop(), ci.stop()]);
      await redis.stop();
    },
  };
}

/** The walkthrough printed at start: every command is ready to paste. */
export function banner(p: { serviceUrl: string; awsUrl: string; issuer: string; token: string }): string {
  const vend = `curl -s -X POST ${p.serviceUrl}/v1/vend -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"template":"s3-read-prefix","parameters":{"bucket":"backend-data","prefix":"reports/"}}'`;
  const toEnv = `node -e 'const c=JSON.parse(require("fs").readFileSync(0,"utf8")).credentials;console.log("export AWS_ACCESS_KEY_ID="+c.accessKeyId+" AWS_SECRET_ACCESS_KEY="+c.secretAccessKey+" AWS_SESSION_TOKEN="+c.sessionToken)'`;
  return [
    '',
    'sts-vend is running locally (no AWS account involved):',
    `  service         ${p.serviceUrl}`,
    `  local AWS       ${p.awsUrl}   (STS, IAM, S3; example world in policies/local-aws-state.yaml)`,
    `  dev OIDC issuer ${p.issuer}   (POST ${p.issuer}/token mints tokens)`,
    `  console         ${p.serviceUrl}/console   (sign in with any email, groups: secops)`,
    '',
    'Vend credentials for alice@example.com (group backend, project backend-api) to read backend-data/reports/:',
    '',
    `  export TOKEN=${p.token}`,
    `  ${vend}`,
    '',
    'Use them with the AWS CLI against the local S3 (the first works, the next two are AccessDenied):',
    '',
    `  eval "$(${vend} | ${toEnv})"`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 cp s3://backend-data/reports/2026/q3.csv -`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 cp s3://backend-data/exports/users.csv -`,
    `  aws --endpoint-url ${p.awsUrl} --region us-east-1 s3 rm s3://backend-data/reports/2026/q3.csv`,
    '',
  ].join('\n');
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
