/**
 * One scenario per client x delivery, shared by test/integration/real-clients.test.ts (which asserts the counts
 * and that a revoked session's next call fails) and bench/real-clients.ts (which times it): a developer of its
 * own vends through the delivery, the client makes N calls, the session is revoked while the AWS-side Deny is
 * held back (IAM failing), and the client keeps calling until a call fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestStack } from './stack';
import { AWS_CLI, BOTO3_LOOP, hitsSince, JS_LOOP, PYTHON, startLoop, writeProcessProfile, type Hits, type Loop, type LoopLine } from './real-clients';

export const CLIENTS = ['aws-cli', 'boto3', 'js-sdk'] as const;
export const DELIVERIES = ['credential_process', 'container', 'exec'] as const;
export type Client = (typeof CLIENTS)[number];
export type Delivery = (typeof DELIVERIES)[number];

const READ = ['--template', 's3-read-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=reports/'];

/**
 * The AWS CLI loop: CALLS invocations, then (UNTIL_REFUSED) a line from stdin and invocations until one fails.
 * Debian's CLI 2.9 ignores AWS_ENDPOINT_URL, hence --endpoint-url on every invocation.
 */
const AWS_CLI_LOOP = `
call() { "$AWS" s3api list-objects-v2 --bucket backend-data --prefix reports/ --endpoint-url "$S3_ENDPOINT" --output json >/dev/null 2>"$ERR"; }
i=0
while [ "$i" -lt "$CALLS" ]; do call || { cat "$ERR" >&2; exit 3; }; i=$((i + 1)); done
echo "{\\"event\\":\\"done\\",\\"calls\\":$CALLS}"
[ -n "$UNTIL_REFUSED" ] || exit 0
read -r _
n=0
while [ "$n" -lt 100 ]; do
  start=$(date +%s.%N)
  if call; then echo "{\\"event\\":\\"ok\\",\\"start\\":$start}"; else
    end=$(date +%s.%N)
    echo "{\\"event\\":\\"refused\\",\\"start\\":$start,\\"end\\":$end,\\"error\\":\\"exit status\\"}"
    cat "$ERR" >&2
    exit 0
  fi
  n=$((n + 1))
done
`;

export interface ScenarioResult {
  developer: string;
  client: Client;
  delivery: Delivery;
  calls: number;
  /** Requests to the service during the calls (vends, refreshes, checkpoints). */
  serviceHits: number;
  byKind: Hits;
  vends: number;
  assumeRoles: number;
  /** After the revocation: calls that still succeeded, and the first refusal. */
  okAfterRevoke: LoopLine[];
  refused: LoopLine;
  /** The revocation's answer (202: the Deny is held back) and when it returned (epoch seconds). */
  revokeStatus: number;
  revokedAt: number;
  /** Everything the client printed on stderr (the refusal's message is there for the AWS CLI). */
  stderr: string;
  sessionStates: string[];
}

export interface ScenarioWorld {
  stack: TestStack;
  service: { url: string; hits: Hits };
  cli: string[];
  dir: string;
}

/** Runs one scenario to the first refused call after the revocation. */
export async function runScenario(w: ScenarioWorld, client: Client, delivery: Delivery, calls: number, opts: { clockStepSeconds?: number } = {}): Promise<ScenarioResult> {
  const developer = `${client}.${delivery.replace('_', '-')}@example.com`;
  const home = path.join(w.dir, `${client}-${delivery}`);
  mkdirSync(home, { recursive: true });
  const token = await w.stack.token({ email: developer });
  const tokenFile = path.join(home, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    XDG_CACHE_HOME: path.join(home, 'cache'),
    AWS_CONFIG_FILE: path.join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: os.devNull,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    S3_ENDPOINT: w.stack.aws.aws.url,
    CALLS: String(calls),
    UNTIL_REFUSED: '1',
    AWS: AWS_CLI,
    ERR: path.join(home, 'aws-cli.err'),
    CLOCK_STEP_SECONDS: String(opts.clockStepSeconds ?? 0),
  };
  writeFileSync(env.AWS_CONFIG_FILE!, '');
  const program: [string, string[]] =
    client === 'aws-cli' ? ['/bin/sh', ['-c', AWS_CLI_LOOP]] : client === 'boto3' ? [PYTHON, ['-c', BOTO3_LOOP]] : [process.execPath, ['-e', JS_LOOP]];

  const before = { ...w.service.hits };
  let loop: Loop;
  if (delivery === 'credential_process') {
    writeProcessProfile(env.AWS_CONFIG_FILE!, 'agent', [...w.cli, 'credentials', ...READ, '--url', w.service.url, '--token-file', tokenFile]);
    loop = startLoop(program[0], program[1], { ...env, AWS_PROFILE: 'agent' });
  } else if (delivery === 'container') {
    const res = await fetch(`${w.service.url}/v1/vend`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, delivery: 'container' }),
    });
    const body = (await res.json()) as { container: { url: string; authorizationToken: string } };
    loop = startLoop(program[0], program[1], { ...env, AWS_CONTAINER_CREDENTIALS_FULL_URI: body.container.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: body.container.authorizationToken });
  } else {
    loop = startLoop(w.cli[0]!, [...w.cli.slice(1), 'exec', ...READ, '--', program[0], ...program[1]], { ...env, STS_VEND_URL: w.service.url, STS_VEND_TOKEN: token });
  }
  try {
    const done = await loop.waitFor('done');
    const traffic = hitsSince(w.service.hits, before);
    const assumeRoles = w.stack.aws.aws.admin.sessions().filter((s) => s.tags.developer === developer).length;

    // Layer 1 alone: IAM fails until the client is refused, so the Deny never reaches the role (the test stack
    // runs no reconciler) and AWS would still take the credential.
    w.stack.aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
    let revokeStatus: number;
    let revokedAt: number;
    let refused: LoopLine;
    try {
      const ops = await w.stack.token({ email: 'ops@example.com', groups: ['secops'] });
      const revoked = await fetch(`${w.service.url}/v1/revoke`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ops}`, 'Content-Type': 'application/json' },
        // With a block, as an operator stopping an agent would: otherwise credential_process, its session
        // refused, would simply vend a new one on its next run.
        body: JSON.stringify({ developer, reason: `real-client test ${client} ${delivery}`, block: { durationSeconds: 600 } }),
      });
      revokeStatus = revoked.status;
      revokedAt = Date.now() / 1000;
      loop.go();
      refused = await loop.waitFor('refused');
    } finally {
      w.stack.aws.aws.admin.clearFaults();
    }
    await loop.exited;
    const ids = [...new Set(w.stack.aws.aws.admin.sessions().filter((x) => x.tags.developer === developer).map((x) => x.tags['agent-session']!))];
    const records = await Promise.all(ids.map((id) => w.stack.deps.sessions.get(id)));
    return {
      developer,
      client,
      delivery,
      calls: done.calls ?? calls,
      serviceHits: traffic.service,
      byKind: traffic.byKind,
      vends: traffic.vends,
      assumeRoles,
      okAfterRevoke: loop.lines.filter((l) => l.event === 'ok'),
      refused,
      revokeStatus,
      revokedAt,
      stderr: loop.stderr,
      sessionStates: records.map((rec) => rec?.state ?? 'missing'),
    };
  } finally {
    if (loop.child.exitCode === null) loop.child.kill('SIGKILL');
  }
}
