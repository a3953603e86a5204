/**
 * Child processes of the benchmark (redis-server, the AWS emulator, the service) and their cleanup: every child
 * is registered here and killed on normal exit, on error and on SIGINT/SIGTERM, so a run never leaves a
 * listener or a redis-server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answersPing, freePort } from '../src/dev/dev-redis';

export { freePort } from '../src/dev/dev-redis';

export const ROOT = path.resolve(__dirname, '..');

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines the child wrote to stderr (or why it could not start), shown when it fails. */
  stderrTail(): string;
  /** False once it exited or could not be started. */
  running(): boolean;
  stop(): Promise<void>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();

/** Node arguments that run a TypeScript entry from source; BENCH_CPU_PROF=<dir> adds a CPU profile per child. */
export function nodeArgs(entry: string): string[] {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  return [...prof, '--import', 'tsx', path.join(ROOT, entry)];
}

/** Spawns and registers a child. stdin stays a pipe so a child of ours can notice the bench process dying. */
export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  let failed = false;
  // e.g. redis-server not installed: reported by waitFor rather than crashing on an unhandled 'error' event.
  proc.once('error', (err) => {
    failed = true;
    tail += `cannot start ${command}: ${err.message}`;
  });
  // Drained always: a child blocked on a full pipe would stall the measurement.
  proc.stdout!.resume();
  proc.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child: Child = {
    name,
    proc,
    stderrTail: () => tail,
    running: () => !failed && proc.exitCode === null && proc.signalCode === null,
    stop: async () => {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** A temporary folder removed with the children (at exit, error or Ctrl-C). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** A fresh redis-server on a free loopback port: nothing persisted, in a temporary folder removed at exit. */
export async function startRedisServer(name: string): Promise<{ url: string; port: number; child: Child }> {
  const port = await freePort();
  const dir = tempDir('sts-vend-bench-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = startChild(name, 'redis-server', args);
  await waitFor(name, child, () => answersPing(port), 5000);
  return { url: `redis://127.0.0.1:${port}`, port, child };
}

/** Polls `ready` every 50 ms until it holds, the child exits, or `timeoutMs` passes. */
export async function waitFor(name: string, child: Child, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.running()) throw new Error(`${name} is not running (exit code ${child.proc.exitCode}): ${child.stderrTail()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms: ${child.stderrTail()}`);
}

/** The first stdout line of a child, parsed as JSON (how service-process.ts announces itself). */
function firstJsonLine<T>(child: Child, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered: string | null = '';
    const timer = setTimeout(() => reject(new Error(`${child.name}: no announcement after ${timeoutMs} ms: ${child.stderrTail()}`)), timeoutMs);
    child.proc.once('exit', (code) => reject(new Error(`${child.name} exited with ${code}: ${child.stderrTail()}`)));
    child.proc.stdout!.on('data', (d: Buffer) => {
      if (buffered === null) return;
      buffered += d.toString();
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      const line = buffered.slice(0, newline);
      buffered = null;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${child.name}: unexpected first line ${line}`));
      }
    });
  });
}

/** What each child that stopped on its own last wrote to stderr: why a run failed, when a child crashed. */
export function exitedChildren(): string[] {
  return [...children].filter((c) => !c.running()).map((c) => `${c.name} exited (${c.proc.exitCode ?? c.proc.signalCode}): ${c.stderrTail().trim().split('\n').slice(-15).join('\n')}`);
}

/** Stops every registered child and removes the temporary folders. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kill children on any way out: SIGINT/SIGTERM stop them and exit; a plain exit kills what is left. */
export function installCleanup(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const c of children) c.proc.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

export interface ServiceTarget {
  redisUrl: string;
  issuer: string;
  /** A second issuer URL for the example `ci` templates (no token of it is ever sent). */
  ciIssuer: string;
  /** The emulator: STS (and everything but IAM) through AWS_ENDPOINT_URL. */
  awsUrl: string;
  /** IAM through AWS_ENDPOINT_URL_IAM (the counting proxy). */
  iamUrl: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  logFile: string;
}

/** Starts bench/service-process.ts with the AWS environment a deployment would set; resolves with its URL. */
export async function startService(name: string, t: ServiceTarget): Promise<{ url: string; gatewayUrl: string; child: Child }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: t.awsUrl,
    AWS_ENDPOINT_URL_IAM: t.iamUrl,
    AWS_ACCESS_KEY_ID: t.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  for (const key of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_STS']) delete env[key];
  const args = [...nodeArgs('bench/service-process.ts'), '--redis-url', t.redisUrl, '--issuer', t.issuer, '--ci-issuer', t.ciIssuer, '--log-file', t.logFile];
  const child = startChild(name, process.execPath, args, env);
  const { url, gatewayUrl } = await firstJsonLine<{ url: string; gatewayUrl: string }>(child, 30_000);
  return { url, gatewayUrl, child };
}
