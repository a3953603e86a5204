/**
 * Real third-party clients against the test stack: Debian's AWS CLI v2 (/usr/bin/aws) and boto3 through
 * Debian's python (/usr/bin/python3), never the versions first on PATH, plus the AWS SDK for JavaScript in a
 * child process. Each delivery (credential_process, the container endpoint, `sts-vend exec`) is driven the way
 * a user would drive it, and the service's traffic is counted per kind of request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Express } from 'express';
import { build } from 'esbuild';
import { REPO_ROOT } from './cli';

export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';

/** What is missing of the real clients, as a sentence; undefined when both are there. */
export function missingRealClients(): string | undefined {
  const missing: string[] = [];
  if (!existsSync(AWS_CLI)) missing.push(`${AWS_CLI} (apt-get install awscli)`);
  if (!existsSync(PYTHON)) missing.push(`${PYTHON} (apt-get install python3)`);
  else if (spawnSyncOk(PYTHON, ['-c', 'import boto3, botocore']) === false) missing.push('boto3 for /usr/bin/python3 (apt-get install python3-boto3)');
  return missing.length ? `real-client tests need ${missing.join(' and ')}` : undefined;
}

function spawnSyncOk(file: string, args: string[]): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- sync probe at module load, once
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync(file, args, { stdio: 'ignore' }).status === 0;
}

/**
 * `describe` when the clients are installed. Outside CI a missing client skips the suite with a message saying
 * what to install; in CI (CI set) the suite runs anyway and fails, since .ci/run installs them.
 */
export function describeWithRealClients(name: string, fn: () => void): void {
  const missing = missingRealClients();
  if (missing && !process.env.CI) {
    describe.skip(`${name} (skipped: ${missing})`, fn);
    console.warn(`skipping "${name}": ${missing}`);
    return;
  }
  describe(name, fn);
}

/**
 * The CLI from source bundled into one file (as `npm run build` would compile it), so credential_process starts
 * as fast as the installed command does: run as `node <file>`. tsx would add most of a second to every run.
 */
export async function bundleCli(dir: string): Promise<string[]> {
  const outfile = path.join(dir, 'sts-vend.js');
  await build({ entryPoints: [path.join(REPO_ROOT, 'src/cli/main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, logLevel: 'silent' });
  return [process.execPath, outfile];
}

export type HitKind = 'vend' | 'refresh' | 'checkpoint' | 'end' | 'other';
export type Hits = Record<HitKind, number>;

/** The app on a free loopback port, counting requests by kind. */
export async function countingListen(app: Express): Promise<{ url: string; hits: Hits; close(): Promise<void> }> {
  const hits: Hits = { vend: 0, refresh: 0, checkpoint: 0, end: 0, other: 0 };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const kind: HitKind =
      req.method === 'POST' && url === '/v1/vend' ? 'vend'
        : url.startsWith('/v1/credentials/') && url.endsWith('/checkpoint') ? 'checkpoint'
          : url.startsWith('/v1/credentials/') && req.method === 'DELETE' ? 'end'
            : url.startsWith('/v1/credentials/') ? 'refresh'
              : 'other';
    hits[kind] += 1;
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The service requests made since `before`: all of them, and vends alone. */
export function hitsSince(hits: Hits, before: Hits): { service: number; vends: number; byKind: Hits } {
  const byKind = Object.fromEntries(Object.entries(hits).map(([k, v]) => [k, v - before[k as HitKind]])) as Hits;
  return { service: byKind.vend + byKind.refresh + byKind.checkpoint + byKind.end, vends: byKind.vend, byKind };
}

/**
 * A boto3 (or JS SDK) loop: `CALLS` ListObjectsV2 calls on the allowed prefix, a `{"event": "done"}` line, then,
 * with UNTIL_REFUSED set, one line read from stdin (the test revokes meanwhile) and calls until one fails,
 * one JSON line per call with its start time. The endpoint is passed explicitly: boto3 1.26 ignores
 * AWS_ENDPOINT_URL.
 */
export const BOTO3_LOOP = `
import json, os, sys, time
import boto3, botocore.config
session = boto3.session.Session(profile_name=os.environ.get('BOTO_PROFILE') or None, region_name='us-east-1')
s3 = session.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], config=botocore.config.Config(retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
def out(**kw):
    print(json.dumps(kw), flush=True)
def call():
    return s3.list_objects_v2(Bucket='backend-data', Prefix='reports/')['KeyCount']
n = int(os.environ['CALLS'])
keys = [call() for _ in range(n)]
out(event='done', calls=n, keys=keys[-1])
if os.environ.get('UNTIL_REFUSED'):
    sys.stdin.readline()
    for i in range(1200):
        t = time.time()
        try:
            call()
            out(event='ok', start=t)
        except Exception as e:
            out(event='refused', start=t, end=time.time(), error=type(e).__name__, message=str(e)[:400])
            break
        time.sleep(0.05)
`;

export const JS_LOOP = `
const { S3Client, ListObjectsV2Command } = require('@aws-sdk/client-s3');
const s3 = new S3Client({ endpoint: process.env.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1 });
const out = (o) => console.log(JSON.stringify(o));
const call = async () => (await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }))).KeyCount;
(async () => {
  const n = Number(process.env.CALLS);
  let keys;
  for (let i = 0; i < n; i++) keys = await call();
  out({ event: 'done', calls: n, keys });
  if (!process.env.UNTIL_REFUSED) return;
  await new Promise((resolve) => process.stdin.once('data', resolve));
  // CLOCK_STEP_SECONDS moves the clock the SDK judges freshness by (Date.now) ahead after each call, so the test
  // sees in seconds what takes up to a minute of real time (signing uses new Date(), which stays real).
  const realNow = Date.now;
  let offset = 0;
  Date.now = () => realNow() + offset;
  for (let i = 0; i < 1200; i++) {
    const start = realNow() / 1000;
    try {
      await call();
      out({ event: 'ok', start });
    } catch (e) {
      out({ event: 'refused', start, end: realNow() / 1000, error: e.name, message: String(e.message).slice(0, 400) });
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    offset += Number(process.env.CLOCK_STEP_SECONDS ?? 0) * 1000;
  }
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(9); });
`;

export interface LoopLine {
  event: 'done' | 'ok' | 'refused';
  calls?: number;
  keys?: number;
  start?: number;
  end?: number;
  error?: string;
  message?: string;
}

/** A running loop: its JSON lines as they come, and a way to wait for one. */
export class Loop {
  readonly lines: LoopLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) this.lines.push(JSON.parse(line) as LoopLine);
        for (const w of this.waiters.splice(0)) w();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      for (const w of this.waiters.splice(0)) w();
      resolve(code);
    }));
  }

  /** Resolves with the first line of this event; rejects if the process exits first or `withinMs` passes. */
  async waitFor(event: LoopLine['event'], withinMs = 120_000): Promise<LoopLine> {
    const deadline = Date.now() + withinMs;
    const what = (): string => `after ${this.lines.length} lines (last: ${JSON.stringify(this.lines.at(-1))}); stderr: ${this.stderr.slice(-2000)}`;
    for (;;) {
      const found = this.lines.find((l) => l.event === event);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited before "${event}" ${what()}`);
      if (Date.now() >= deadline) throw new Error(`no "${event}" within ${withinMs} ms ${what()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Tells the loop to go on (after the revocation). */
  go(): void {
    this.child.stdin!.write('go\n');
  }
}

/** Starts a process (inherited env only as given), cwd at the repo root so node scripts find the SDK. */
export function startLoop(file: string, args: string[], env: NodeJS.ProcessEnv): Loop {
  return new Loop(spawn(file, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** Runs a command to its end: exit code, stdout, stderr. */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An AWS config file with one credential_process profile. */
export function writeProcessProfile(file: string, profile: string, command: string[]): void {
  writeFileSync(file, `[profile ${profile}]\nregion = us-east-1\ncredential_process = ${command.join(' ')}\n`);
}
