/**
 * What the benchmark's service, load and seeded sessions agree on: the example world of
 * policies/local-aws-state.yaml and policies/templates, the Redis key prefix, the identities used.
 */
import path from 'node:path';
import { ROOT } from './processes';

export const STATE_FILE = path.join(ROOT, 'policies', 'local-aws-state.yaml');
export const TEMPLATES_DIR = path.join(ROOT, 'policies', 'templates');
export const ACCOUNT = '111122223333';

/** Key prefix of the service's Redis keys; sessions are seeded under the same one. */
export const BENCH_KEY_PREFIX = 'sv:';
/** The config default, set explicitly because seeded records must match what the service would write. */
export const BENCH_GRACE_SECONDS = 300;
export const OPERATOR_GROUP = 'secops';

/** The vend every benchmark request makes: read one prefix of one bucket (agent-s3). */
export const VEND_BODY = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/2026/' } };

/** Claims of agent number i: a distinct developer each, allowed the template above. */
export const agentClaims = (i: number): Record<string, unknown> => ({ email: `agent${i}@example.com`, groups: ['backend'], project: 'backend-api' });

export const OPERATOR_CLAIMS = { email: 'oncall@example.com', groups: [OPERATOR_GROUP], project: 'backend-api' };

/** Templates seeded sessions use, one role each, with parameters a real vend of them would carry. */
export const SEED_TEMPLATES = [
  { template: 's3-read-prefix', role: 'agent-s3', parameters: (i: number) => ({ bucket: 'backend-data', prefix: `reports/2026/run-${i % 97}/` }) },
  { template: 'lambda-update-code', role: 'agent-lambda', parameters: (i: number) => ({ functionName: `orders-api-${i % 13}` }) },
  { template: 'logs-read-group', role: 'agent-logs', parameters: (i: number) => ({ logGroup: `/aws/lambda/orders-api-${i % 13}` }) },
] as const;

export const roleArn = (role: string): string => `arn:aws:iam::${ACCOUNT}:role/${role}`;
