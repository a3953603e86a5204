/**
 * A streaming pass-through in front of the emulator that counts what reaches it: the gateway's upstream points
 * here, so a test can assert that a refused call forwarded nothing. Requests and answers are piped unchanged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type TestStack } from './stack';

export interface UpstreamCounter {
  url: string;
  /** Target origin (set before the first request). */
  target: string;
  /** Every request that arrived: method, path, the access key id its signature names and its payload hash. */
  requests: Array<{ method: string; path: string; accessKeyId?: string; payload?: string }>;
  stop(): Promise<void>;
}

export async function startUpstreamCounter(): Promise<UpstreamCounter> {
  const agent = new http.Agent({ keepAlive: true });
  const counter: UpstreamCounter = { url: '', target: '', requests: [], stop: async () => undefined };
  const server = http.createServer((req, res) => {
    const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const payload = req.headers['x-amz-content-sha256'];
    counter.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', ...(accessKeyId ? { accessKeyId } : {}), ...(typeof payload === 'string' ? { payload } : {}) });
    const t = new URL(counter.target);
    const up = http.request({ hostname: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // An aborted request (the gateway gave up on an upload mid-body) is aborted on to the emulator too.
    req.once('close', () => {
      if (!req.complete) up.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  counter.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  counter.stop = () =>
    new Promise<void>((resolve) => {
      agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return counter;
}

/**
 * A gateway stack whose upstream is a counter in front of the emulator, on a clock a test can move
 * (`clock.offsetMs`): what the gateway tests that count forwarded calls start from.
 */
export async function startCountedGateway(clock: { offsetMs: number }): Promise<{ stack: TestStack; counter: UpstreamCounter; stop(): Promise<void> }> {
  const counter = await startUpstreamCounter();
  const stack = await startStack({
    gateway: true,
    now: () => new Date(Date.now() + clock.offsetMs),
    configure: (raw) => {
      const g = raw.gateway as { endpoints: { default: string } };
      counter.target = g.endpoints.default;
      g.endpoints.default = counter.url;
    },
  });
  return {
    stack,
    counter,
    stop: async () => {
      await stack.stop();
      await counter.stop();
    },
  };
}
