/**
 * Local AWS: an STS + IAM + S3 emulator that speaks the real wire protocols (SigV4, AWS Query, S3 REST), so the
 * unmodified AWS SDK and CLI work against it through AWS_ENDPOINT_URL. Used by `npm run dev`, `npm run
 * local-aws` and the tests.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { authorizeCall } from './authorization';
import { FaultInjector } from './faults';
import { seedTables } from './dynamodb';
import { createS3Handler } from './s3';
import { BucketStore } from './s3-store';
import { createLocalAwsServer } from './server';
import { assertValidState } from './state-validation';
import type { LocalAws, LocalAwsAdmin, LocalAwsState, SessionView, StartLocalAwsOptions } from './types';
import { World, type IssuedSession } from './world';

export type { Faults, FaultShare, LocalAws, LocalAwsAdmin, LocalAwsState, SessionView, StartLocalAwsOptions } from './types';
export type { Decision, RequestContext } from './policy-eval';

/** Reads and validates a YAML state file; the error lists every problem with its path. */
export function loadLocalAwsState(file: string): LocalAwsState {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read local AWS state ${file}: ${(err as Error).message}`);
  }
  assertValidState(value, file);
  return value;
}

/** The public view of a session: everything but the secret key and token. */
function view(s: IssuedSession): SessionView {
  const { secretAccessKey: _secret, sessionToken: _token, sessionPolicyDoc: _doc, accountId: _acct, roleId: _id, ...rest } = s;
  return { ...rest, tags: { ...s.tags }, transitiveTagKeys: [...s.transitiveTagKeys], policyArns: [...s.policyArns], issuedAt: new Date(s.issuedAt), expiresAt: new Date(s.expiresAt) };
}

/** Starts the emulator on `host:port` (127.0.0.1 and a free port by default). */
export async function startLocalAws(opts: StartLocalAwsOptions): Promise<LocalAws> {
  assertValidState(opts.state, 'state');
  // The emulator owns its copy: a test editing its state object later must not change the running world.
  const state = JSON.parse(JSON.stringify(opts.state)) as LocalAwsState;
  const now = opts.now ?? (() => new Date());
  const world = new World(state, { now, propagationDelayMs: opts.iamPropagationDelayMs ?? 0 });
  const faults = new FaultInjector();
  const admin: LocalAwsAdmin = {
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.current(),
    sessions: () => [...world.sessions.values()].map(view),
    session: (accessKeyId) => {
      const s = world.sessions.get(accessKeyId);
      return s ? view(s) : undefined;
    },
    authorize: (accessKeyId, action, resource, context = {}) => authorizeCall(world, now(), { accessKeyId }, action, resource, context),
  };
  const store = new BucketStore({ ownerAccountId: world.accountId, now, seed: state.buckets ?? [] });
  const s3 = createS3Handler({ store, region: world.region, authorize: (caller, action, resource, extra) => authorizeCall(world, now(), caller, action, resource, extra) });
  const tables = seedTables(state.tables, now());
  const server = createLocalAwsServer({ world, now, faults, s3, admin, tables, authorize: (caller, action, resource) => authorizeCall(world, now(), caller, action, resource) });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    admin,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
