import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { answersPing, freePort } from '../../src/dev/dev-redis';
import { createRedis, whenReady } from '../../src/storage/redis-client';
import { describeWhen } from './skip';

export interface TestRedis {
  url: string;
  port: number;
  /** A key prefix of its own; required when `external` (a shared server), harmless otherwise. */
  keyPrefix: string;
  /** True with TEST_REDIS_URL: a server this helper did not start and must not kill or flush. */
  external: boolean;
  /** Graceful shutdown (the server flushes its append-only file), then the temporary folder is removed. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; the folder stays so restart() finds the data the server had persisted. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and folder (stopping it gracefully first if it runs). */
  restart(): Promise<void>;
}

/** A key prefix no other test uses (no braces: they would move hash tags). */
export function uniquePrefix(): string {
  return `t${process.pid}.${randomBytes(4).toString('hex')}:`;
}

/**
 * A real redis-server of the test's own on a free port, in a temporary folder, persisting nothing unless
 * `appendOnly` (then appendfsync always, as a production Redis that must not lose acknowledged writes).
 * With TEST_REDIS_URL set, that server is used instead: kill() and restart() throw (check `external`), and
 * stop() deletes only this handle's prefixed keys.
 */
export async function startRedis(opts: { appendOnly?: boolean } = {}): Promise<TestRedis> {
  const keyPrefix = uniquePrefix();
  const externalUrl = process.env.TEST_REDIS_URL;
  if (externalUrl) return external(externalUrl, keyPrefix);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-test-redis-'));
  const args = (port: number): string[] => [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
    ...(opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  let child: Server | undefined;
  let port = 0;
  // A free port can be taken between finding and binding it; try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(args(port), dir);
    } catch (err) {
      if (attempt >= 4 || /not found/.test(String(err))) throw err;
    }
  }
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = undefined;
    if (c) await stopProcess(c, signal);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    keyPrefix,
    external: false,
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      // The port is ours, but another test's freePort() may briefly probe it; retry rather than fail.
      for (let attempt = 0; !child; attempt++) {
        try {
          child = await spawnServer(args(port), dir);
        } catch (err) {
          if (attempt >= 4) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    stop: async () => {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRedisCluster {
  /** Seed nodes, "host:port". */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `size` primaries (no replicas) on free ports, for checking that no command spans slots.
 * Needs redis-cli next to redis-server; not available with TEST_REDIS_URL.
 */
export async function startRedisCluster(size = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-test-cluster-'));
  const children: Server[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopProcess(c, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nodes: string[] = [];
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const nodeDir = mkdtempSync(path.join(dir, 'node-'));
      children.push(await spawnServer(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', nodeDir, '--cluster-enabled', 'yes'], dir));
      nodes.push(`127.0.0.1:${port}`);
    }
    await new Promise<void>((resolve, reject) =>
      execFile('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], (err, _out, stderr) =>
        err ? reject(new Error(`redis-cli --cluster create failed: ${stderr || err.message}`)) : resolve(),
      ),
    );
    // Every node must agree the cluster is up before a client's slot map is complete.
    for (const node of nodes) {
      const client = new Redis(`redis://${node}`, { maxRetriesPerRequest: 1 });
      try {
        for (let i = 0; !(await client.cluster('INFO')).includes('cluster_state:ok'); i++) {
          if (i > 200) throw new Error(`cluster node ${node} never reported cluster_state:ok`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        client.disconnect();
      }
    }
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A test Redis and the service's own client on it, for every test of a file. */
export interface RedisFixture {
  server: TestRedis;
  client: Redis;
  /** A key prefix no other test uses, under the server's own (so a shared server is cleaned on stop). */
  prefix(): string;
}

/**
 * Starts a test Redis (startRedis, so TEST_REDIS_URL is honoured) and a client from src/sessions/redis-client.ts
 * before the file's tests, and closes both after them. Read `server` and `client` inside tests and hooks.
 */
export function useTestRedis(): RedisFixture {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  const fixture: RedisFixture = {
    get server() {
      if (!server) throw new Error('useTestRedis: the server is started in beforeAll; read it inside a test or hook');
      return server;
    },
    get client() {
      if (!client) throw new Error('useTestRedis: the client is made in beforeAll; read it inside a test or hook');
      return client;
    },
    prefix: () => `${fixture.server.keyPrefix}${uniquePrefix()}`,
  };
  beforeAll(async () => {
    server = await startRedis();
    client = createRedis({ url: server.url }) as Redis;
  });
  afterAll(async () => {
    await client?.quit();
    await server?.stop();
  });
  return fixture;
}

/**
 * A Redis Cluster of three primaries and a Cluster client on it (ready), for every test of a file; stopped after
 * them. Only inside describeWithOwnRedis: a shared TEST_REDIS_URL server is no cluster.
 */
export function useTestRedisCluster(): { readonly cluster: TestRedisCluster; readonly client: Cluster } {
  let cluster: TestRedisCluster | undefined;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = createRedis({ url: `redis://${cluster.nodes[0]}`, cluster: cluster.nodes }) as Cluster;
    await whenReady(client, 10_000);
  }, 30_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('useTestRedisCluster: the cluster is started in beforeAll');
      return cluster;
    },
    get client() {
      if (!client) throw new Error('useTestRedisCluster: the client is made in beforeAll');
      return client;
    },
  };
}

function external(url: string, keyPrefix: string): TestRedis {
  const unsupported = (): Promise<void> => Promise.reject(new Error('TEST_REDIS_URL: an external server is never killed or restarted'));
  return {
    url,
    port: Number(new URL(url).port || 6379),
    keyPrefix,
    external: true,
    kill: unsupported,
    restart: unsupported,
    stop: async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await Promise.all(keys.map((k) => client.unlink(k)));
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

/** A redis-server under its watcher shell. */
interface Server {
  shell: ChildProcess;
  /** The redis-server's own pid (signals go to it, not to the shell). */
  pid: number;
}

// redis-server runs under a shell that also holds a pipe from this process: if this process dies without
// stopping the server (a crashed or forgetful test; jest gives tests no real exit hook), the pipe closes and
// the watcher kills the server and removes its folder. On a normal exit of the server the watcher is dismissed.
// Background jobs of a non-interactive shell read /dev/null, hence the pipe passed on fd 3.
const WATCHED = `exec 3<&0
redis-server "$@" 3<&- </dev/null &
r=$!
( cat <&3 >/dev/null; kill -9 "$r"; rm -rf "$WATCHED_DIR" ) >/dev/null 2>&1 &
w=$!
exec 3<&-
echo "redis-server pid $r"
wait "$r"
code=$?
kill "$w" 2>/dev/null
exit $code`;

/** Spawns redis-server and resolves once it answers PING; rejects (with its output) if it exits first. */
async function spawnServer(args: string[], dir: string): Promise<Server> {
  const shell = spawn('sh', ['-c', WATCHED, 'sh', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WATCHED_DIR: dir } });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-2000);
  };
  shell.stdout!.on('data', keep);
  shell.stderr!.on('data', keep);
  let exited: Error | undefined;
  shell.once('exit', (code) => {
    shell.stdin!.destroy();
    const missing = code === 127 ? ' (redis-server not found: apt-get install redis-server, or set TEST_REDIS_URL)' : '';
    exited ??= new Error(`redis-server exited (${code})${missing} before answering: ${output.trim()}`);
  });
  // A test that forgets stop() must not keep jest alive; the watcher still ends the server.
  shell.unref();
  for (const stream of [shell.stdin, shell.stdout, shell.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const port = Number(args[args.indexOf('--port') + 1]);
  for (let i = 0; i < 200; i++) {
    const pid = Number(/redis-server pid (\d+)/.exec(output)?.[1] ?? 0);
    if (exited) throw exited;
    if (pid && (await answersPing(port))) return { shell, pid };
    await new Promise((r) => setTimeout(r, 25));
  }
  shell.stdin!.destroy(); // the watcher kills the server
  throw new Error(`redis-server did not answer PING on port ${port}: ${output.trim()}`);
}

/** Signals the server and waits until it is gone (SIGKILL after 5 s). */
async function stopProcess(server: Server, signal: NodeJS.Signals): Promise<void> {
  const { shell, pid } = server;
  if (shell.exitCode !== null || shell.signalCode !== null) return;
  const exited = new Promise((r) => shell.once('exit', r));
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  send(signal);
  const timer = setTimeout(() => send('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}



/**
 * `describe` for suites that start, kill or reconfigure redis-server processes of their own (a Cluster, TLS, an
 * outage). With TEST_REDIS_URL the tests share one external server, which is never killed or reconfigured: such
 * a suite is skipped then, saying so, rather than silently.
 */
export function describeWithOwnRedis(name: string, fn: () => void): void {
  describeWhen(!process.env.TEST_REDIS_URL, 'it runs redis-server processes of its own, and TEST_REDIS_URL names a shared server')(name, fn);
}
