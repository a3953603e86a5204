import net from 'node:net';
import { Redis } from 'ioredis';
import request from 'supertest';
import { READ } from '../helpers/kill-switch';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { describeWithOwnRedis, startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';

/**
 * Redis work per vend and per cached refresh, counted rather than timed: the service reaches its own
 * redis-server through a relay that counts round trips (a write after the last reply is one wait on Redis;
 * commands written before any reply came back cost that same wait), and Redis's own command statistics count
 * the commands, those a script runs included (README, "Redis").
 */
interface Relay {
  url: string;
  roundTrips(): number;
  stop(): Promise<void>;
}

async function startRelay(port: number): Promise<Relay> {
  let roundTrips = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port });
    let waiting = false;
    client.on('data', (d) => {
      if (!waiting) roundTrips++;
      waiting = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      waiting = false;
      client.write(d);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => (client.destroy(), upstream.destroy()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    roundTrips: () => roundTrips,
    stop: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
}

/** Commands Redis ran since start (INFO commandstats), INFO itself left out. */
async function commands(admin: Redis): Promise<number> {
  const text = await admin.info('commandstats');
  return [...text.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter((m) => m[1] !== 'info').reduce((n, m) => n + Number(m[2]), 0);
}

describeWithOwnRedis('Redis round trips and commands', () => {
  let redis: TestRedis;
  let aws: TestAws;
  let relay: Relay;
  let stack: TestStack;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    aws = await startTestAws();
    relay = await startRelay(redis.port);
    // No limits: the rate limit and the live-session cap each add commands to the reservation script.
    stack = await startStack({ reuse: { redis: { ...redis, url: relay.url }, aws }, configure: (raw) => void (raw.limits = { vendsPerMinute: 0, liveSessionsPerDeveloper: 0 }) });
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.stop();
    await relay?.stop();
    await aws?.aws.stop();
    await redis?.stop();
  });

  /** Round trips and commands `fn` costs, the service otherwise idle. */
  async function count(fn: () => Promise<void>): Promise<{ roundTrips: number; commands: number }> {
    const [trips, cmds] = [relay.roundTrips(), await commands(admin)];
    await fn();
    return { roundTrips: relay.roundTrips() - trips, commands: (await commands(admin)) - cmds };
  }

  it('a vend waits on Redis twice and runs at most 12 commands', async () => {
    const token = await stack.token();
    // The first vend of a template in a process also records the template's role: warm that up first.
    expect((await stack.vend(READ, token)).status).toBe(200);
    const VENDS = 10;
    const used = await count(async () => {
      for (let i = 0; i < VENDS; i++) expect((await stack.vend(READ, token)).status).toBe(200);
    });
    expect(used.roundTrips).toBe(2 * VENDS);
    expect(used.commands / VENDS).toBeLessThanOrEqual(12);
  });

  it('a refresh served from the credential cache waits on Redis once', async () => {
    const vended = await stack.vend({ ...READ, delivery: 'container' }, await stack.token());
    expect(vended.status).toBe(200);
    const { url, authorizationToken } = vended.body.container as { url: string; authorizationToken: string };
    const path = new URL(url).pathname;
    const refresh = async (): Promise<void> => {
      const res = await request(stack.app).get(path).set('Authorization', authorizationToken);
      expect(res.status).toBe(200);
      expect(res.body.AccessKeyId).toBe(vended.body.credentials.accessKeyId);
    };
    const used = await count(async () => {
      for (let i = 0; i < 5; i++) await refresh();
    });
    expect(used.roundTrips).toBe(5);
  });
});
