/**
 * The gateway's own listener, in the same process as the service (so S3 path-style bucket names never meet the
 * /v1 routes) and sharing its session store, kill-switch store and credential cache. `Expect: 100-continue` is
 * answered only once a call is allowed, so a refused upload is never sent.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigPort, GatewayPort } from '../ports';
import { createServer, type TlsMaterial } from '../startup/tls';
import { serveGatewayCall, type GatewayCallPorts, type GatewayContext } from './gateway-call';
import { hostnameOf } from './request-parts';
import { ProxyCa } from './proxy-ca';
import { attachProxy, type AttachedProxy, type CallHandler } from './proxy-server';

/** The listener's ports: a gateway call's, the gateway's own state and the drain time. */
export type GatewayServerPorts = GatewayCallPorts & GatewayPort & ConfigPort<'gateway' | 'sessions' | 'server'>;

export interface RunningGateway {
  server: Server;
  /** What agents use as AWS_ENDPOINT_URL. */
  url: string;
  /** Proxy mode's CA, when it is on (tests read its certificate count). */
  ca?: ProxyCa;
  close(): Promise<void>;
}

/** Builds the listener (not listening yet); with a CA, it is also the proxy of proxy mode. */
export function createGatewayServer(deps: GatewayServerPorts, tls?: TlsMaterial, ca?: ProxyCa): { server: Server; ctx: GatewayContext; proxy?: AttachedProxy } {
  if (!deps.gateway) throw new Error('gateway.enabled is false');
  const gw = deps.gateway;
  const publicUrl = deps.config.gateway.publicUrl;
  const ctx: GatewayContext = {
    deps,
    gw,
    hosts: publicUrl ? [hostnameOf(new URL(publicUrl).host)] : ['127.0.0.1', 'localhost'],
    scopes: new Map(),
  };
  const serve: CallHandler = (c, req, res, expectContinue) => {
    serveGatewayCall(c, req, res, expectContinue).catch((err: unknown) => {
      deps.logger.error({ err: (err as Error)?.message }, 'gateway request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  let proxy: AttachedProxy | undefined;
  const handle = (expectContinue: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    if (!proxy?.serveAbsolute(req, res, expectContinue)) serve(ctx, req, res, expectContinue);
  };
  const server = createServer(handle(false), tls);
  server.on('checkContinue', handle(true));
  if (ca) proxy = attachProxy(server, ctx, ca, serve);
  return { server, ctx, ...(proxy ? { proxy } : {}) };
}

/** Proxy mode's CA from `gateway.proxy`'s files, its minted certificates counted; undefined when proxy mode is off. */
export async function loadProxyCa(deps: GatewayServerPorts): Promise<ProxyCa | undefined> {
  const p = deps.config.gateway.proxy;
  if (!p.enabled || !p.caCertFile || !p.caKeyFile) return undefined;
  return ProxyCa.load({ caCertFile: p.caCertFile, caKeyFile: p.caKeyFile }, { ...p, now: deps.now, onMint: () => deps.metrics.gatewayProxyCerts.inc() });
}

/** Listens on gateway.host:gateway.port (0: a free port) and records the endpoint URL agents get. */
export async function startGateway(deps: GatewayServerPorts, tls?: TlsMaterial): Promise<RunningGateway> {
  const ca = await loadProxyCa(deps);
  const { server, ctx, proxy } = createGatewayServer(deps, tls, ca);
  const g = deps.config.gateway;
  server.listen(g.port, g.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const url = g.publicUrl ?? `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  ctx.gw.endpointUrl = url;
  if (ca) ctx.gw.proxy = { url: deps.config.gateway.proxy.url ?? url, caBundle: ca.certPem };
  return {
    server,
    url,
    ...(ca ? { ca } : {}),
    close: async () => {
      const drainMs = deps.config.server.drainSeconds * 1000;
      // Tunnels left the listener's own connections when they were opened: they drain on their own.
      const tunnels = proxy?.drain(drainMs);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), drainMs).unref();
      });
      await tunnels;
      // The last calls' records, queued for the next batch.
      await ctx.gw.store.flush().catch(() => undefined);
    },
  };
}
