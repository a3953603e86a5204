import request from 'supertest';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';
import { startCountingProxy, type CountingProxy, type ProxiedCall } from './support/counting-proxy';
import { pool } from './support/load';

/**
 * STS throttles: the emulator answers `Throttling` in bursts and at random. The service retries inside the SDK
 * (aws.maxAttempts, default 3), then answers 503 aws_throttled with Retry-After; nothing else, and never more
 * attempts than configured. Attempts are counted on the wire by a proxy, per vend (the session tag).
 */
const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };
const LOAD = 150;
const IN_FLIGHT = 16;

let redis: TestRedis;
let aws: TestAws;
let proxy: CountingProxy;
let stack: TestStack;
let token: string;
let maxAttempts: number;
/** Every vend answer in this file, for the metrics check at the end. */
const answers: request.Response[] = [];

beforeAll(async () => {
  redis = await startRedis();
  aws = await startTestAws();
  proxy = await startCountingProxy(aws);
  stack = await startStack({
    reuse: { redis, aws: proxy.aws },
    configure: (raw) => {
      // The service's default attempts, not the test stack's lower setting.
      delete (raw.aws as Record<string, unknown>).maxAttempts;
      raw.limits = { vendsPerMinute: 0, liveSessionsPerDeveloper: 0 };
    },
  });
  maxAttempts = stack.config.aws.maxAttempts;
  token = await stack.token();
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
  await aws?.aws.stop();
  await redis?.stop();
});
afterEach(() => aws.aws.admin.clearFaults());

const vend = async (): Promise<request.Response> => {
  const res = await request(stack.app).post('/v1/vend').set('Authorization', `Bearer ${token}`).send(READ);
  answers.push(res);
  return res;
};
const assumeRoleCalls = (from = 0): ProxiedCall[] => proxy.calls.slice(from).filter((c) => c.action === 'AssumeRole');
const bySession = (calls: ProxiedCall[]): Map<string, ProxiedCall[]> => {
  const map = new Map<string, ProxiedCall[]>();
  for (const c of calls) map.set(c.session!, [...(map.get(c.session!) ?? []), c]);
  return map;
};
const expectThrottled = (res: request.Response): void => {
  expect([res.status, res.body.error?.code]).toEqual([503, 'aws_throttled']);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
};

describe('STS throttles', () => {
  it('the default is 3 attempts', () => expect(maxAttempts).toBe(3));

  it('absorbs a burst one short of maxAttempts with SDK retries: one vend, maxAttempts requests, a 200', async () => {
    const from = proxy.calls.length;
    aws.aws.admin.setFaults({ stsThrottle: { burst: maxAttempts - 1 } });
    const res = await vend();
    expect(res.status).toBe(200);
    const attempts = bySession(assumeRoleCalls(from)).get(res.body.sessionId);
    expect(attempts?.map((c) => c.code ?? 'ok')).toEqual([...Array(maxAttempts - 1).fill('Throttling'), 'ok']);
  });

  it('answers 503 aws_throttled with Retry-After once a burst outlasts maxAttempts, after exactly maxAttempts requests', async () => {
    const from = proxy.calls.length;
    aws.aws.admin.setFaults({ stsThrottle: { burst: maxAttempts + 5 } });
    const res = await vend();
    expectThrottled(res);
    const calls = assumeRoleCalls(from);
    expect(calls.map((c) => c.code)).toEqual(Array(maxAttempts).fill('Throttling'));
    // The vend's session was recorded before AWS was asked, and is marked failed (its slot freed).
    const rec = await stack.deps.sessions.get(calls[0]!.session!);
    expect([rec?.state, rec?.failure]).toEqual(['failed', 'aws_throttled']);
  });

  it(`under a 50% throttle rate, ${LOAD} vends ${IN_FLIGHT} at a time answer 200 or 503 aws_throttled, with bounded retries`, async () => {
    const from = proxy.calls.length;
    aws.aws.admin.setFaults({ stsThrottle: { rate: 0.5 } });
    const results = await pool(LOAD, IN_FLIGHT, () => vend());
    const other = results.filter((r) => r.status !== 200 && !(r.status === 503 && r.body.error?.code === 'aws_throttled' && Number(r.headers['retry-after']) > 0));
    expect(other.map((r) => [r.status, r.text])).toEqual([]);

    const sessions = bySession(assumeRoleCalls(from));
    // Every vend reached STS under its own session id, and none was tried more than maxAttempts times.
    expect(sessions.size).toBe(LOAD);
    expect([...sessions.values()].filter((calls) => calls.length > maxAttempts)).toEqual([]);
    expect(assumeRoleCalls(from).length).toBeLessThanOrEqual(LOAD * maxAttempts);
    // Retries did happen (at a 50% rate, 150 vends without a single retry would be a broken retry path).
    expect([...sessions.values()].some((calls) => calls.length > 1)).toBe(true);
    // A 200 is the one attempt AWS answered; every attempt before it was throttled.
    for (const r of results.filter((x) => x.status === 200)) {
      const calls = sessions.get(r.body.sessionId)!;
      expect(calls.map((c) => c.code ?? 'ok')).toEqual([...Array(calls.length - 1).fill('Throttling'), 'ok']);
    }
  }, 120_000);

  it('counts in sts_vend_sts_errors_total{code="Throttling"} exactly the vends whose retries ran out', async () => {
    const text = (await request(stack.app).get('/metrics')).text;
    const metric = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
    const exhausted = answers.filter((r) => r.status === 503 && r.body.error?.code === 'aws_throttled').length;
    const throttledOnWire = proxy.calls.filter((c) => c.code === 'Throttling').length;
    expect(exhausted).toBeGreaterThan(0); // the second test made one at least
    expect(metric(/^sts_vend_sts_errors_total\{code="Throttling"\} (\d+)$/m)).toBe(exhausted);
    expect(metric(/^sts_vend_vend_total\{template="s3-read-prefix",outcome="aws_throttled"\} (\d+)$/m)).toBe(exhausted);
    expect(metric(/^sts_vend_sts_assume_role_duration_seconds_count\{outcome="throttled"\} (\d+)$/m)).toBe(exhausted);
    // Throttles the SDK absorbed by retrying show in no metric: the wire saw more than the counter says.
    expect(throttledOnWire).toBeGreaterThan(exhausted);
  });
});
