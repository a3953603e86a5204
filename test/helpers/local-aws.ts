/**
 * The local AWS emulator for tests: the example world of policies/local-aws-state.yaml on a free port, and the
 * client config (endpoint, region, the sts-vend user's keys) for the real AWS SDK clients, plus an AssumeRole
 * input the example world accepts (its trust policies want an AccessType tag, an agent-session tag and a
 * SourceIdentity) and clients that do not retry.
 */
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient, type AssumeRoleCommandInput, type Credentials } from '@aws-sdk/client-sts';
import { loadLocalAwsState, startLocalAws, type LocalAws, type LocalAwsState } from '../../src/dev/local-aws';

export const EXAMPLE_STATE_FILE = path.resolve(__dirname, '../../policies/local-aws-state.yaml');
export const ACCOUNT_ID = '111122223333';
export const SERVICE_KEYS = { accessKeyId: 'AKIASTSVENDLOCAL0001', secretAccessKey: 'local-sts-vend-secret-key-do-not-use-in-aws' };

export interface TestAwsOverrides {
  /** Edits a copy of the example state before the emulator starts. */
  state?: (state: LocalAwsState) => void;
  now?: () => Date;
  iamPropagationDelayMs?: number;
}

export interface TestAws {
  aws: LocalAws;
  /** Spread into `new STSClient(...)`, `new IAMClient(...)`, `new S3Client(...)`. */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
}

/** Starts the emulator with the example world (optionally edited); stop it with `aws.stop()`. */
export async function startTestAws(overrides: TestAwsOverrides = {}): Promise<TestAws> {
  // A JSON copy, not structuredClone: under jest that would build objects of another realm.
  const state = JSON.parse(JSON.stringify(loadLocalAwsState(EXAMPLE_STATE_FILE))) as LocalAwsState;
  overrides.state?.(state);
  const aws = await startLocalAws({ state, port: 0, now: overrides.now, iamPropagationDelayMs: overrides.iamPropagationDelayMs });
  return { aws, clientConfig: { endpoint: aws.url, region: state.region ?? 'us-east-1', credentials: { ...SERVICE_KEYS } } };
}

export const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;

/** A valid AssumeRole input for the example world; `extra` replaces fields. */
export function validAssumeRole(extra: Partial<AssumeRoleCommandInput> = {}): AssumeRoleCommandInput {
  return {
    RoleArn: roleArn('agent-s3'),
    RoleSessionName: 'alice.s1',
    DurationSeconds: 900,
    SourceIdentity: 'alice',
    Tags: [
      { Key: 'AccessType', Value: 'AI' },
      { Key: 'agent-session', Value: 's-1' },
    ],
    TransitiveTagKeys: ['agent-session'],
    ...extra,
  };
}

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The SDK credentials shape of an AssumeRole result. */
export function sessionKeys(c: Credentials | undefined): Keys {
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('no credentials in the AssumeRole result');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** Clients that do not retry, so a test sees the first error at once. */
export function stsClient(env: TestAws, credentials: Keys = env.clientConfig.credentials): STSClient {
  return new STSClient({ ...env.clientConfig, credentials, maxAttempts: 1 });
}

export function iamClient(env: TestAws, credentials: Keys = env.clientConfig.credentials): IAMClient {
  return new IAMClient({ ...env.clientConfig, credentials, maxAttempts: 1 });
}
