/**
 * Redis processes the plain test helper (redis.ts) does not start: a server with extra arguments (a password,
 * TLS, a replica) and a Sentinel. Each runs under a watcher shell that kills it and removes its folder if the
 * test process dies without stopping it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-redis';
export { freePort };

export interface RedisProcess {
  port: number;
  dir: string;
  /** Sends a command with redis-cli (TLS and `cliArgs` such as `--user`/`--pass` applied) and returns its output. */
  cli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const WATCHED = `exec 3<&0
"$@" 3<&- </dev/null &
r=$!
echo "watched pid $r"
( cat <&3 >/dev/null; kill -9 "$r"; rm -rf "$WATCHED_DIR" ) >/dev/null 2>&1 &
w=$!
exec 3<&-
wait "$r"
code=$?
kill "$w" 2>/dev/null
exit $code`;

/**
 * Starts `redis-server` with `args` (port and folder added) and resolves once `redis-cli PING` answers through
 * `cliArgs`. `sentinel: true` writes `config` to a file and starts the server in Sentinel mode.
 */
export async function startRedisProcess(
  opts: { args?: string[]; cliArgs?: string[]; sentinel?: boolean; config?: string; tls?: { ca: string; cert: string; key: string } } = {},
): Promise<RedisProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-test-redisp-'));
  const port = await freePort();
  const command = ['redis-server'];
  if (opts.sentinel) {
    writeFileSync(path.join(dir, 'sentinel.conf'), `${opts.config ?? ''}\n`);
    command.push(path.join(dir, 'sentinel.conf'), '--sentinel');
  }
  const tls = opts.tls;
  // With TLS the port speaks only TLS (no plain port), as a managed Redis with in-transit encryption does.
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  command.push(...listen, '--bind', '127.0.0.1', '--dir', dir, ...(opts.sentinel ? [] : ['--save', '', '--appendonly', 'no']), ...(opts.args ?? []));
  const proc = spawnWatched(command, { dir });
  const cliArgs = [...(tls ? ['--tls', '--cacert', tls.ca] : []), ...(opts.cliArgs ?? [])];
  const cli = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cliArgs, ...args], { timeout: 5000 }, (err, out, stderr) =>
        err ? reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`)) : resolve(out.trim()),
      ),
    );
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (proc.exited()) {
      await stop();
      throw new Error(`redis-server exited: ${proc.output()}`);
    }
    if ((await cli(['PING']).catch(() => '')) === 'PONG') return { port, dir, cli, stop };
    if (i > 100) {
      await stop();
      throw new Error(`redis-server did not answer on ${port}: ${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WatchedProcess {
  child: ChildProcess;
  /** The last 2,000 characters of stdout and stderr. */
  output(): string;
  exited(): boolean;
  /** Ends the process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `command` under a watcher shell holding a pipe from this process: if this process dies first (jest gives
 * tests no real exit hook), the pipe closes and the watcher kills the command and removes `dir`.
 */
export function spawnWatched(command: string[], opts: { dir: string; env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void }): WatchedProcess {
  const child = spawn('sh', ['-c', WATCHED, 'sh', ...command], { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd, env: { ...process.env, ...opts.env, WATCHED_DIR: opts.dir } });
  let output = '';
  let partial = '';
  let pid = 0;
  child.stdout!.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-2000);
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const watched = /^watched pid (\d+)$/.exec(line);
      if (watched && !pid) pid = Number(watched[1]);
      else opts.onLine?.(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output.trim(),
    exited: () => !running(),
    stop: async (graceMs = 5000) => {
      if (!running()) return;
      // SIGTERM to the command itself (the shell would not forward it); closing the pipe makes the watcher
      // SIGKILL it if it is still there after the grace period.
      try {
        if (pid) process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.stdin!.destroy(), pid ? graceMs : 0);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A self-signed CA and a server certificate for 127.0.0.1 / localhost, made with the openssl command. */
export async function makeTlsFiles(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (name: string): string => path.join(dir, name);
  const openssl = (args: string[]): Promise<void> =>
    new Promise((resolve, reject) => execFile('openssl', args, { cwd: dir }, (err, _o, stderr) => (err ? reject(new Error(`openssl ${args[0]}: ${stderr || err.message}`)) : resolve())));
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=sts-vend test CA']);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('san.ext')]);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

