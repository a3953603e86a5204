/**
 * Shared steps of the kill-switch route tests: vend, revoke and read over HTTP, and S3 calls made with the
 * vended credentials against the emulator, so every assertion is about what an agent would really see.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import request from 'supertest';
import { roleArn, sessionKeys, stsClient } from './local-aws';
import type { TestStack } from './stack';

/** Fast enough for tests: a 1 s skew margin (and settle window), a reconciler pass every second. */
export const fastKillSwitch = (raw: Record<string, unknown>): void => {
  raw.killSwitch = { marginSeconds: 1, reconcileIntervalSeconds: 1 };
};

export const AGENT_S3 = roleArn('agent-s3');
export const AGENT_DYNAMODB = roleArn('agent-dynamodb');
export const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };
export const TABLE = (table: string) => ({ template: 'dynamodb-read-table', parameters: { table } });
export const WRITE = (prefix: string) => ({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix } });
export const tableArn = (table: string): string => `arn:aws:dynamodb:us-east-1:111122223333:table/${table}`;

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}
export interface Vended {
  sessionId: string;
  credentials: Creds;
}

/** A group revocation's scope, as in the POST /v1/revoke body. */
export type GroupScope = { developer: string } | { project: string } | { template: string } | { all: true };

/**
 * The roles a group revocation must write its Deny to, from the templates the service loaded: every role a
 * template could issue a session on in that scope, whether or not a session was found there (a session still
 * being vended must be covered too). A project scopes templates that allow it or allow every project.
 */
export function rolesInScope(stack: TestStack, scope: GroupScope): string[] {
  const roles = new Set<string>();
  for (const t of stack.deps.templates.values()) {
    if ('template' in scope && t.name !== scope.template) continue;
    if ('project' in scope && t.allow.projects && !t.allow.projects.includes(scope.project)) continue;
    roles.add(t.roleArn);
  }
  return [...roles].sort();
}

/** The `roles` of a revocation answer once every role's Deny is written. */
export const appliedTo = (roles: string[]): Array<{ roleArn: string; state: 'applied' }> => roles.map((r) => ({ roleArn: r, state: 'applied' }));

/** The instant before which a revocation's sessions are denied: createdAt + margin, rounded up to a second. */
export const cutoffOf = (createdAt: string, marginSeconds: number): number => Math.ceil((Date.parse(createdAt) + marginSeconds * 1000) / 1000) * 1000;

/**
 * A session on `role` that AWS holds but the service's indexes do not show, as one still being vended when a
 * revocation lands: AssumeRole with the service's keys and the session tags a vend sets (`tags` override).
 */
export async function assumeOutsideIndexes(stack: TestStack, role: string, tags: Record<string, string>): Promise<Creds> {
  const all: Record<string, string> = { AccessType: 'AI', 'agent-session': 'Outside00000', template: 'none', ...tags };
  const sts = stsClient(stack.aws);
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn(role),
        RoleSessionName: 'outside.indexes',
        DurationSeconds: 900,
        SourceIdentity: 'outside',
        Tags: Object.entries(all).map(([Key, Value]) => ({ Key, Value })),
        TransitiveTagKeys: Object.keys(all),
      }),
    );
    const keys = sessionKeys(out.Credentials);
    return { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken ?? '' };
  } finally {
    sts.destroy();
  }
}

/** Identities of the example world: operators are in group secops. */
export const tokens = {
  operator: (s: TestStack) => s.token({ email: 'ops@example.com', groups: ['secops'] }),
  alice: (s: TestStack) => s.token(),
  bob: (s: TestStack) => s.token({ email: 'bob@example.com' }),
  carol: (s: TestStack) => s.token({ email: 'carol@example.com', groups: ['data'], project: 'data-pipeline' }),
};

/** Runs an S3 call with exactly the three credential fields an agent gets; 'ok' or the AWS error name. */
async function s3Call(stack: TestStack, creds: Creds, command: GetObjectCommand | PutObjectCommand): Promise<string> {
  const { accessKeyId, secretAccessKey, sessionToken } = creds;
  const s3 = new S3Client({
    endpoint: stack.aws.aws.url,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
  });
  try {
    await s3.send(command as GetObjectCommand);
    return 'ok';
  } catch (err) {
    return (err as { name?: string }).name ?? 'error';
  } finally {
    s3.destroy();
  }
}

/** GetObject, by default of an object every s3-read-prefix session on reports/ may read. */
export const s3Read = (stack: TestStack, creds: Creds, key = 'reports/2026/q3.csv', bucket = 'backend-data'): Promise<string> =>
  s3Call(stack, creds, new GetObjectCommand({ Bucket: bucket, Key: key }));

export const s3Write = (stack: TestStack, creds: Creds, key: string): Promise<string> =>
  s3Call(stack, creds, new PutObjectCommand({ Bucket: 'backend-data', Key: key, Body: 'x' }));

/** What AWS decides for a service the emulator does not serve (DynamoDB here). */
export const decide = (stack: TestStack, creds: Creds, action: string, resource: string): string =>
  stack.aws.aws.admin.authorize(creds.accessKeyId, action, resource);

/** A vend that must succeed. */
export async function vendOk(stack: TestStack, body: Record<string, unknown>, token: string): Promise<Vended> {
  const res = await stack.vend(body, token);
  if (res.status !== 200) throw new Error(`vend ${String(body.template)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as Vended;
}

/**
 * A vend right after a group revocation: refused `blocked` (with Retry-After) while the skew margin runs, since
 * AWS would deny credentials issued then; retried after Retry-After until it is issued. Returns every refusal.
 */
export async function vendWhenSettled(stack: TestStack, body: Record<string, unknown>, token: string): Promise<{ vended: Vended; refusals: request.Response[] }> {
  const refusals: request.Response[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const res = await stack.vend(body, token);
    if (res.status === 200) return { vended: res.body as Vended, refusals };
    if (res.status !== 403 || res.body.error?.code !== 'blocked') throw new Error(`vend answered ${res.status}: ${JSON.stringify(res.body)}`);
    refusals.push(res);
    await pause(Number(res.headers['retry-after']) * 1000);
  }
  throw new Error(`vend still blocked after ${refusals.length} attempts`);
}

export async function revoke(stack: TestStack, body: Record<string, unknown>, token?: string): Promise<request.Response> {
  return request(stack.app)
    .post('/v1/revoke')
    .set('Authorization', `Bearer ${token ?? (await tokens.operator(stack))}`)
    .send(body);
}

/** GET (or DELETE) a path with a token, the operator's by default. */
export async function call(stack: TestStack, method: 'get' | 'delete', path: string, token?: string): Promise<request.Response> {
  return request(stack.app)[method](path).set('Authorization', `Bearer ${token ?? (await tokens.operator(stack))}`);
}

/** Polls `read` (a short interval, bounded) until `done` holds of its value; fails naming `what` otherwise. */
export async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await pause(100);
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
