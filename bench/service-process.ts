/**
 * The service under benchmark, in a process of its own: the real stack as `npm run dev` builds it (buildDeps,
 * createApp, the reconciler) against the Redis, OIDC issuer and AWS endpoints the benchmark hands it. AWS is
 * reached through the standard environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, AWS_ACCESS_KEY_ID, ...)
 * set by the parent, as a deployment would set it. Prints `{"url": ...}` on stdout once listening.
 *
 *   node --import tsx bench/service-process.ts --redis-url redis://... --issuer <corp> --ci-issuer <ci> --log-file <path>
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../src/app';
import { parseConfig } from '../src/config';
import { buildDeps, closeDeps, startDepsReconciler } from '../src/deps';
import { startGateway } from '../src/gateway/gateway-server';
import { generateCa } from '../src/gateway/proxy-ca';
import { createLogger } from '../src/observability/logger';
import { BENCH_GRACE_SECONDS, BENCH_KEY_PREFIX, OPERATOR_GROUP, TEMPLATES_DIR } from './world';

/** Proxy mode's CA for this process, in a private temporary folder (the gateway-proxy section uses it). */
async function benchCa(): Promise<{ caCertFile: string; caKeyFile: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-bench-ca-'));
  const { certPem, keyPem } = await generateCa({ commonName: 'sts-vend bench gateway CA', days: 1 });
  writeFileSync(path.join(dir, 'ca.pem'), certPem);
  writeFileSync(path.join(dir, 'ca.key'), keyPem, { mode: 0o600 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { caCertFile: path.join(dir, 'ca.pem'), caKeyFile: path.join(dir, 'ca.key') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'redis-url': { type: 'string' }, issuer: { type: 'string' }, 'ci-issuer': { type: 'string' }, 'log-file': { type: 'string' } },
  });
  if (!values['redis-url'] || !values.issuer || !values['ci-issuer'] || !values['log-file']) {
    throw new Error('--redis-url, --issuer, --ci-issuer and --log-file are required');
  }

  const config = parseConfig({
    server: { port: 0, host: '127.0.0.1' },
    redis: { url: values['redis-url'], keyPrefix: BENCH_KEY_PREFIX },
    aws: { region: 'us-east-1' },
    issuers: [
      { name: 'corp', issuer: values.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'AI', namespace: '', claims: { developer: 'email', project: 'project', groups: 'groups' } },
      // Only so the example ci-deploy template loads; the benchmark sends no CI tokens.
      { name: 'ci', issuer: values['ci-issuer'], audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'CI', claims: { developer: 'actor', project: 'repository' } },
    ],
    operators: { groups: [OPERATOR_GROUP] },
    templatesDir: TEMPLATES_DIR,
    sessions: { defaultDurationSeconds: 900, maxDurationSeconds: 3600, graceSeconds: BENCH_GRACE_SECONDS },
    // The benchmark vends thousands of times per minute per developer: limits off (0).
    limits: { vendsPerMinute: 0, liveSessionsPerDeveloper: 0 },
    // The gateway section calls thousands of times per second through one session: no per-session limit.
    gateway: { enabled: true, port: 0, host: '127.0.0.1', callsPerSecond: 0, proxy: { enabled: true, ...(await benchCa()) } },
  }, { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, STS_VEND_GATEWAY_KEY: randomBytes(32).toString('base64url') });
  // Production logs JSON lines at info; they go to a file here so the cost stays and stdout stays ours.
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: values['log-file'], sync: false }) });
  const deps = await buildDeps(config, { logger, defaultMetrics: true });
  const reconciler = startDepsReconciler(deps);
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const gateway = await startGateway(deps);

  const stop = async (): Promise<void> => {
    server.close();
    server.closeAllConnections();
    gateway.server.closeAllConnections();
    void gateway.close();
    await reconciler.stop();
    await closeDeps(deps);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // The parent holds our stdin: when it goes away (even killed outright), so do we.
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, gatewayUrl: gateway.url })}\n`);
}

main().catch((err: unknown) => {
  console.error('service-process:', (err as Error)?.stack ?? err);
  process.exit(1);
});
