/**
 * A counting reverse proxy in front of the emulator: the service's STS or IAM endpoint points here, every
 * request is forwarded unchanged (Host header included, so the SigV4 signature still verifies) and recorded
 * with its Action, the AssumeRole `agent-session` tag (the service's session id) and the AWS error code of
 * the answer. Counting on the wire counts what the service really sent, SDK retries included; the emulator
 * keeps no counts of its own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestAws } from '../../helpers/local-aws';

export interface ProxiedCall {
  action: string;
  /** When the request arrived (recorded then, so a test can see calls still in flight). */
  at: number;
  /** The `agent-session` session tag of an AssumeRole: the vend (or refresh) this attempt belongs to. */
  session?: string;
  /** 0 while the call is in flight. */
  status: number;
  /** AWS error code of a refusal (e.g. Throttling), absent on success. */
  code?: string;
}

export interface CountingProxy {
  url: string;
  calls: ProxiedCall[];
  /** The emulator as the service should see it: the same emulator, its endpoint replaced by this proxy. */
  aws: TestAws;
  stop(): Promise<void>;
}

/** The value of the session tag `key` in an AWS Query AssumeRole body (Tags.member.N.Key / .Value). */
function tagValue(params: URLSearchParams, key: string): string | undefined {
  for (const [name, value] of params) {
    const m = /^Tags\.member\.(\d+)\.Key$/.exec(name);
    if (m && value === key) return params.get(`Tags.member.${m[1]}.Value`) ?? undefined;
  }
  return undefined;
}

/** Starts the proxy on a free loopback port in front of `target` (a started test emulator). */
export async function startCountingProxy(target: TestAws): Promise<CountingProxy> {
  const upstream = new URL(target.aws.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const calls: ProxiedCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('latin1'));
      const call: ProxiedCall = { action: params.get('Action') ?? 'unknown', at: Date.now(), status: 0 };
      const session = tagValue(params, 'agent-session');
      if (session) call.session = session;
      calls.push(call);
      // A kept-alive socket the emulator closes just as it is reused fails with ECONNRESET before the request
      // reached it (Node's documented race): sent again once, so a load-dependent socket race never reaches the
      // service as a 502 it would rightly call aws_unavailable.
      const send = (retried: boolean): void => {
        const forward = http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (c: Buffer) => parts.push(c));
            answer.on('end', () => {
              const text = Buffer.concat(parts);
              call.status = answer.statusCode ?? 0;
              const code = /<Code>([^<]+)<\/Code>/.exec(text.toString('utf8'))?.[1];
              if (code) call.code = code;
              res.writeHead(call.status, answer.headers);
              res.end(text);
            });
          },
        );
        forward.on('error', (err: NodeJS.ErrnoException) => {
          if (!retried && forward.reusedSocket && err.code === 'ECONNRESET') return send(true);
          call.status = 502;
          call.code = `proxy:${err.code ?? 'error'}`;
          res.writeHead(502);
          res.end();
        });
        forward.end(body);
      };
      send(false);
    });
  });
  // Longer than any pause of the service's SDK between two calls, so the hop in front never races it either.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    aws: { aws: target.aws, clientConfig: { ...target.clientConfig, endpoint: url } },
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
