/**
 * Proxy mode: the gateway listener also answers as an HTTPS proxy (agents set HTTPS_PROXY to it). A CONNECT to
 * an AWS host is answered, its TLS terminated with a certificate for that host minted from the gateway's CA, and
 * every request inside served as the same gateway call endpoint mode serves (serveGatewayCall), held to the host
 * the tunnel was opened to. A CONNECT to a destination `gateway.proxy.allow` names is a plain tunnel, not
 * inspected; anything else is refused and logged, so the proxy can be the agent's only way out. Absolute-form
 * plain-HTTP requests (`GET http://host/...`) are served the same way for AWS hosts and refused otherwise.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import { audit } from '../observability/audit';
import type { GatewayContext } from './gateway-call';
import type { ProxyCa } from './proxy-ca';
import { allowListed, awsHost, parseConnectTarget, type AwsHost } from './proxy-hosts';

export type CallHandler = (ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, expectContinue: boolean) => void;

export interface AttachedProxy {
  /** Serves an absolute-form request (`GET http://host/...`) and answers true; false for an ordinary one. */
  serveAbsolute(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): boolean;
  /**
   * Drains proxy mode: idle tunnels close now, calls in flight finish (their answers close the tunnel), and
   * whatever is still open after `ms` is ended.
   */
  drain(ms: number): Promise<void>;
}

/** How long a CONNECT may take to become a TLS session (or a tunnel to connect). */
const HANDSHAKE_MS = 30_000;
/** Past the upstream's own idle limit (forward.ts, 5 minutes), so a slow AWS answer is never cut here first. */
const IDLE_MS = 6 * 60_000;

/** Adds proxy mode to the gateway listener: CONNECT handling and a TLS-terminated server behind it. */
export function attachProxy(server: Server, base: GatewayContext, ca: ProxyCa, handle: CallHandler): AttachedProxy {
  const allow = base.deps.config.gateway.proxy.allow;
  const contexts = new WeakMap<Duplex, GatewayContext>();
  const open = new Set<Duplex>();
  const ctxFor = (target: AwsHost): GatewayContext => ({ ...base, hosts: [target.serviceHost], proxy: target });
  // Requests inside terminated tunnels: plain HTTP once decrypted, each one the gateway call it always was.
  // The inner server never listens, so Node tracks none of its connections: which are busy is counted here.
  let draining = false;
  const busy = new Map<Duplex, number>();
  const serveInner = (expectContinue: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (busy.get(socket) ?? 1) - 1;
      busy.set(socket, left);
      if (draining && left === 0) socket.destroy();
    });
    if (draining) res.setHeader('connection', 'close');
    handle(contexts.get(socket)!, req, res, expectContinue);
  };
  const inner = http.createServer(serveInner(false));
  inner.on('checkContinue', serveInner(true));
  // A tunnel with nothing moving for this long is closed, as a keep-alive connection would be.
  inner.timeout = IDLE_MS;
  const track = (s: Duplex): void => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };

  const note = (outcome: 'terminated' | 'tunnelled' | 'refused', destination: string, extra: Record<string, unknown> = {}): void => {
    base.deps.metrics.gatewayProxyConnections.inc({ outcome });
    audit(base.deps.logger, { event: 'gateway.connect', outcome: outcome === 'refused' ? 'refused' : 'allowed', requestId: randomUUID(), destination: destination.slice(0, 260), mode: outcome, ...extra });
  };

  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    track(socket);
    socket.on('error', () => socket.destroy());
    const target = parseConnectTarget(req.url);
    if (!target) return refuseConnect(socket, 400, 'invalid_request', 'the CONNECT target must be host:port (a DNS name or IPv4 address and a port)', () => note('refused', String(req.url), { code: 'invalid_request' }));
    const destination = `${target.host}:${target.port}`;
    const aws = awsHost(target.host);
    if (aws && target.port === 443) {
      note('terminated', destination, { service: aws.service });
      return void terminate(socket, head, aws).catch((err: unknown) => {
        base.deps.logger.warn({ destination, err: (err as Error)?.message }, 'gateway proxy: TLS for an AWS host failed');
        socket.destroy();
      });
    }
    if (!aws && allowListed(allow, target.host, target.port)) {
      note('tunnelled', destination);
      return tunnel(socket, head, target);
    }
    const why = aws ? `${destination}: AWS hosts are served on port 443 only` : `${destination} is not an AWS endpoint this gateway serves, and gateway.proxy.allow does not name it`;
    refuseConnect(socket, 403, 'destination_not_allowed', why, () => note('refused', destination, { code: 'destination_not_allowed' }));
  });

  async function terminate(socket: Socket, head: Buffer, target: AwsHost): Promise<void> {
    socket.setTimeout(HANDSHAKE_MS, () => socket.destroy());
    const context: SecureContext = await ca.contextFor(target.host);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1'],
      // The name the agent's TLS asks for must be the host it opened the tunnel to.
      SNICallback: (name, cb) => (name.toLowerCase() === target.host ? cb(null, context) : cb(new Error(`SNI ${name.slice(0, 100)} is not ${target.host}`))),
    });
    secure.on('error', (err) => {
      base.deps.logger.debug({ destination: target.host, err: err.message }, 'gateway proxy: TLS session ended with an error');
      secure.destroy();
    });
    secure.once('secure', () => socket.setTimeout(0));
    // The TLS session owns the TCP connection now; when it ends, so does the connection (and its tracking).
    secure.once('close', () => socket.destroy());
    track(secure);
    busy.set(secure, 0);
    secure.once('close', () => busy.delete(secure));
    contexts.set(secure, ctxFor(target));
    inner.emit('connection', secure);
  }

  function tunnel(socket: Socket, head: Buffer, target: { host: string; port: number }): void {
    const upstream = net.connect({ host: target.host, port: target.port });
    track(upstream);
    upstream.setTimeout(HANDSHAKE_MS, () => upstream.destroy());
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.once('error', (err) => {
      if (!socket.destroyed && upstream.connecting) socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
      base.deps.logger.warn({ destination: `${target.host}:${target.port}`, err: err.message }, 'gateway proxy: allow-listed destination unreachable');
    });
    socket.once('close', () => upstream.destroy());
    upstream.once('close', () => socket.destroy());
  }

  return {
    serveAbsolute(req, res, expectContinue) {
      const url = req.url ?? '';
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return false;
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      const plain = parsed?.protocol === 'http:' && (parsed.port === '' || parsed.port === '80') && !parsed.username;
      const aws = plain ? awsHost(parsed!.hostname) : undefined;
      if (!aws) {
        const destination = parsed?.host ?? url.slice(0, 100);
        note('refused', destination, { code: 'destination_not_allowed' });
        const why = plain ? 'is not an AWS endpoint this gateway serves; only AWS hosts are proxied over plain HTTP (CONNECT reaches gateway.proxy.allow)' : 'is proxied only as http:// on port 80 (https goes through CONNECT)';
        refuseRequest(res, `${destination.slice(0, 100)} ${why}`);
        return true;
      }
      note('terminated', `${aws.host}:80`, { service: aws.service });
      // The path exactly as sent (the signature covers it), not the URL parser's normalised one.
      const start = url.indexOf('/', url.indexOf('//') + 2);
      req.url = start < 0 ? '/' : url.slice(start);
      handle(ctxFor(aws), req, res, expectContinue);
      return true;
    },
    async drain(ms) {
      draining = true;
      for (const [socket, calls] of busy) if (calls === 0) socket.destroy();
      const deadline = Date.now() + ms;
      while (open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const s of open) s.destroy();
    },
  };
}

/** The answer to a refused CONNECT: an HTTP status and the API's error envelope, then the connection closes. */
function refuseConnect(socket: Socket, status: 400 | 403, code: string, message: string, log: () => void): void {
  log();
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Forbidden'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function refuseRequest(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ error: { code: 'destination_not_allowed', message } });
  res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
