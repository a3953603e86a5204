import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { buildDeps, closeDeps, startDepsReconciler, type AppDeps } from './deps';
import { TemplateLoadError } from './templates/load-templates';

/**
 * Production entry: reads the config file, talks to real AWS through the SDK's default credential chain,
 * and drains on SIGTERM (in-flight requests finish, new ones are refused, exit 0 within server.drainSeconds).
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<{ server: Server; deps: AppDeps; close(): Promise<void> }> {
  const config = loadConfig(env);
  const deps = await buildDeps(config, { defaultMetrics: true });
  const server = createApp(deps).listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  deps.logger.info({ port: config.server.port, templates: [...deps.templates.keys()] }, 'sts-vend listening');
  const reconciler = startDepsReconciler(deps);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      deps.logger.info({ drainSeconds: config.server.drainSeconds }, 'draining');
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.server.drainSeconds * 1000).unref());
      await Promise.race([drained, deadline]);
      server.closeAllConnections();
      await reconciler.stop();
      await closeDeps(deps);
    })());
  return { server, deps, close };
}

if (require.main === module) {
  main().then(
    ({ close }) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void close().then(() => process.exit(0), () => process.exit(1)));
      }
    },
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
