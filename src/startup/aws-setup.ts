import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { Logger } from '../observability/logger';

/** Where an SDK client sends its requests, and why there. */
export interface EndpointInUse {
  url: string;
  /** `client config`, `AWS_ENDPOINT_URL_STS` / `_IAM`, `AWS_ENDPOINT_URL`, `shared config file`, or `SDK default`. */
  source: string;
}

/**
 * The parts of an SDK v3 client's resolved config this file reads. `serviceConfiguredEndpoint` is how the SDK
 * itself applies AWS_ENDPOINT_URL* and the shared config's endpoint_url, so the log shows what the SDK will use
 * rather than a second reading of the environment that could disagree with it.
 */
interface ResolvedEndpointConfig {
  region(): Promise<string>;
  useFipsEndpoint(): Promise<boolean>;
  useDualstackEndpoint(): Promise<boolean>;
  useGlobalEndpoint?(): Promise<boolean>;
  isCustomEndpoint?: boolean;
  endpoint?(): Promise<{ protocol: string; hostname: string; port?: number; path?: string }>;
  serviceConfiguredEndpoint?(): Promise<string | undefined>;
  endpointProvider(params: Record<string, unknown>): { url: URL };
}

/** The endpoint an STS or IAM client resolves to, without sending anything. */
export async function endpointInUse(client: STSClient | IAMClient, service: 'STS' | 'IAM', env: NodeJS.ProcessEnv = process.env): Promise<EndpointInUse> {
  const config = client.config as unknown as ResolvedEndpointConfig;
  if (config.isCustomEndpoint && config.endpoint) {
    const e = await config.endpoint();
    return { url: `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path ?? '/'}`, source: 'client config' };
  }
  const configured = await config.serviceConfiguredEndpoint?.();
  if (configured) {
    const name = [`AWS_ENDPOINT_URL_${service}`, 'AWS_ENDPOINT_URL'].find((n) => env[n] === configured);
    return { url: configured, source: name ?? 'shared config file' };
  }
  const params = {
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    ...(config.useGlobalEndpoint ? { UseGlobalEndpoint: await config.useGlobalEndpoint() } : {}),
  };
  return { url: config.endpointProvider(params).url.href, source: 'SDK default' };
}

/**
 * Logs, at start, what a production operator needs to know before the first vend: which STS and IAM endpoints
 * the SDK uses (AWS_ENDPOINT_URL* are honoured: VPC endpoints, FIPS, LocalStack), which identity signs
 * (sts:GetCallerIdentity), and a warning when that identity uses long-lived access keys. Never throws: a
 * service without working AWS credentials still starts (health, readiness and templates work) and says why
 * vends will fail.
 */
export async function logAwsSetup(deps: { sts: STSClient; iam: IAMClient; logger: Logger }, opts: { timeoutMs?: number } = {}): Promise<void> {
  const { logger } = deps;
  const endpoint = (client: STSClient | IAMClient, service: 'STS' | 'IAM'): Promise<EndpointInUse> =>
    endpointInUse(client, service).catch((err: Error) => ({ url: 'unresolved', source: err.message }));
  const [sts, iam] = await Promise.all([endpoint(deps.sts, 'STS'), endpoint(deps.iam, 'IAM')]);
  logger.info({ sts, iam }, 'aws endpoints in use');

  try {
    const credentials = await (deps.sts.config as unknown as { credentials(): Promise<{ accessKeyId: string }> }).credentials();
    // AKIA is the prefix of an IAM user's long-term key; temporary credentials (ASIA) expire on their own.
    if (credentials.accessKeyId.startsWith('AKIA')) {
      logger.warn(
        'aws credentials are long-lived IAM user access keys: prefer temporary credentials from the SDK default chain ' +
          '(IRSA or EKS Pod Identity on EKS, the task role on ECS, an instance profile on EC2)',
      );
    }
  } catch {
    // No credentials at all: GetCallerIdentity below fails and says so.
  }

  try {
    const who = await deps.sts.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
    logger.info({ arn: who.Arn, account: who.Account }, 'aws identity');
  } catch (err) {
    const e = err as Error;
    logger.warn({ err: { name: e.name, message: e.message } }, 'aws identity unknown: sts:GetCallerIdentity failed, vends will fail until AWS credentials work');
  }
}
