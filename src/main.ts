import type { Server, ServerResponse } from 'node:http';
import { createApp, createMetricsApp } from './app';
import { ConfigError, loadConfig } from './config';
import { buildDeps, closeDeps, startDepsReconciler, type AppDeps } from './deps';
import type { Reconciler } from './revoke/reconciler';
import type { Logger } from './observability/logger';
import { startGateway, type RunningGateway } from './gateway/gateway-server';
import { logAwsSetup } from './startup/aws-setup';
import { createServer, readTls } from './startup/tls';
import { TemplateLoadError } from './templates/load-templates';

/**
 * Production entry: reads the config file, talks to real AWS through the SDK's default credential chain,
 * and drains on SIGTERM (in-flight requests finish, new ones are refused, exit 0 within server.drainSeconds).
 * It never loads src/dev/ (a test walks its imports). `logger` is for tests; production logs JSON to stdout.
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  opts: { logger?: Logger; handleSignals?: boolean } = {},
): Promise<{ server: Server; metricsServer?: Server; deps: AppDeps; gateway?: RunningGateway; close(): Promise<void> }> {
  const config = loadConfig(env);
  const tls = readTls(config);
  const deps = await buildDeps(config, { defaultMetrics: true, ...(opts.logger ? { logger: opts.logger } : {}) });
  const server = createServer(createApp(deps), tls).listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as { port: number };
  let metricsServer: Server | undefined = undefined;
  let gateway: RunningGateway | undefined = undefined;
  let reconciler: Reconciler | undefined;

  let draining = false;
  // While draining, every answer closes its connection (those in flight when the drain starts too): a keep-alive
  // client (a load balancer's pool) must not slip new requests in on a connection opened before the drain.
  const inFlight = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (draining) return closeAfter(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      inFlight.forEach(closeAfter);
      deps.logger.info({ drainSeconds: config.server.drainSeconds }, 'draining');
      const gatewayClosed = gateway?.close();
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.server.drainSeconds * 1000).unref());
      await Promise.race([drained, deadline]);
      server.closeAllConnections();
      metricsServer?.closeAllConnections();
      metricsServer?.close();
      await gatewayClosed;
      await reconciler?.stop();
      await closeDeps(deps);
    })());
  // Signals are handled from the moment the port is open, and before anything logs that the service is up: a
  // supervisor may send SIGTERM the instant it reads "listening", and must find the handler in place.
  if (opts.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void close().then(() => process.exit(0), () => process.exit(1)));
    }
  }

  metricsServer = config.server.metrics ? createMetricsApp(deps).listen(config.server.metrics.port, config.server.metrics.host) : undefined;
  const metrics = metricsServer;
  if (metrics) await new Promise<void>((resolve, reject) => metrics.once('listening', resolve).once('error', reject));
  const metricsPort = (metricsServer?.address() as { port: number } | undefined)?.port;
  deps.logger.info({ port, tls: tls !== undefined, templates: [...deps.templates.keys()], ...(metricsPort !== undefined ? { metricsPort } : {}) }, 'sts-vend listening');
  // Gateway delivery: its own listener, same process and stores (src/gateway).
  gateway = deps.gateway ? await startGateway(deps, tls) : undefined;
  if (gateway) deps.logger.info({ url: gateway.url }, 'sts-vend gateway listening');
  // A drain that began meanwhile has closed the stores: nothing more to start.
  if (!closing) reconciler = startDepsReconciler(deps);
  await logAwsSetup(deps);
  return { server, ...(metricsServer ? { metricsServer } : {}), deps, ...(gateway ? { gateway } : {}), close };
}

if (require.main === module) {
  main(process.env, { handleSignals: true }).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof TemplateLoadError) {
        console.error(err.message);
      } else {
        console.error('sts-vend failed to start:', (err as Error)?.message ?? err);
      }
      process.exit(1);
    },
  );
}
