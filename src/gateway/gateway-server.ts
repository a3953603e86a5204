/**
 * The gateway's own listener, in the same process as the service (so S3 path-style bucket names never meet the
 * /v1 routes) and sharing its session store, kill-switch store and credential cache. `Expect: 100-continue` is
 * answered only once a call is allowed, so a refused upload is never sent.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigPort, GatewayPort } from '../ports';
import { createServer, type TlsMaterial } from '../startup/tls';
import { serveGatewayCall, type GatewayCallPorts, type GatewayContext } from './gateway-call';
import { hostnameOf } from './request-parts';

/** The listener's ports: a gateway call's, the gateway's own state and the drain time. */
export type GatewayServerPorts = GatewayCallPorts & GatewayPort & ConfigPort<'gateway' | 'sessions' | 'server'>;

export interface RunningGateway {
  server: Server;
  /** What agents use as AWS_ENDPOINT_URL. */
  url: string;
  close(): Promise<void>;
}

/** Builds the listener (not listening yet). */
export function createGatewayServer(deps: GatewayServerPorts, tls?: TlsMaterial): { server: Server; ctx: GatewayContext } {
  if (!deps.gateway) throw new Error('gateway.enabled is false');
  const gw = deps.gateway;
  const publicUrl = deps.config.gateway.publicUrl;
  const ctx: GatewayContext = {
    deps,
    gw,
    hosts: publicUrl ? [hostnameOf(new URL(publicUrl).host)] : ['127.0.0.1', 'localhost'],
    scopes: new Map(),
  };
  const handle = (expectContinue: boolean) => (req: Parameters<typeof serveGatewayCall>[1], res: Parameters<typeof serveGatewayCall>[2]) => {
    serveGatewayCall(ctx, req, res, expectContinue).catch((err: unknown) => {
      deps.logger.error({ err: (err as Error)?.message }, 'gateway request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = createServer(handle(false), tls);
  server.on('checkContinue', handle(true));
  return { server, ctx };
}

/** Listens on gateway.host:gateway.port (0: a free port) and records the endpoint URL agents get. */
export async function startGateway(deps: GatewayServerPorts, tls?: TlsMaterial): Promise<RunningGateway> {
  const { server, ctx } = createGatewayServer(deps, tls);
  const g = deps.config.gateway;
  server.listen(g.port, g.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const url = g.publicUrl ?? `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  ctx.gw.endpointUrl = url;
  return {
    server,
    url,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), deps.config.server.drainSeconds * 1000).unref();
      });
      // The last calls' records, queued for the next batch.
      await ctx.gw.store.flush().catch(() => undefined);
    },
  };
}
