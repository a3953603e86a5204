/**
 * Proxy-mode test parts: a gateway stack with proxy mode on (a CA generated for the test, written to a private
 * folder and named in `gateway.proxy` as an operator would), the environment of a real client that knows only
 * HTTPS_PROXY, a CA bundle and its gateway credentials, and raw CONNECTs to see what the proxy answers.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateCa } from '../../src/gateway/proxy-ca';
import { startStack, type StackOptions, type TestStack } from './stack';

export interface ProxyStack {
  stack: TestStack;
  dir: string;
  /** The CA bundle agents trust (the certificate only). */
  caFile: string;
  /** The CA's private key as written for the service: what must never leak. */
  caKeyPem: string;
  proxyUrl: string;
  stop(): Promise<void>;
}

export async function startProxyStack(opts: { allow?: string[]; stack?: StackOptions } = {}): Promise<ProxyStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-proxy-'));
  const { certPem, keyPem } = await generateCa();
  const caFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca.key');
  writeFileSync(caFile, certPem);
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  const stack = await startStack({
    gateway: true,
    ...opts.stack,
    configure: (raw) => {
      opts.stack?.configure?.(raw);
      (raw.gateway as Record<string, unknown>).proxy = { enabled: true, caCertFile: caFile, caKeyFile: keyFile, allow: opts.allow ?? [] };
    },
  });
  return {
    stack,
    dir,
    caFile,
    caKeyPem: keyPem,
    proxyUrl: stack.gateway!.url,
    stop: async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string; proxyUrl?: string; caBundle?: string };

/** What a real client gets in proxy mode: the gateway key pair, HTTPS_PROXY and the CA bundle; no endpoint URL. */
export function proxyClientEnv(p: ProxyStack, gw: Gw, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: p.dir,
    AWS_CONFIG_FILE: path.join(p.dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: os.devNull,
    AWS_ACCESS_KEY_ID: gw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gw.secretAccessKey,
    AWS_DEFAULT_REGION: gw.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTPS_PROXY: gw.proxyUrl ?? p.proxyUrl,
    AWS_CA_BUNDLE: p.caFile,
    ...extra,
  };
}

/** Writes the AWS CLI config the proxied clients read (multipart sizes, one request at a time when asked). */
export function writeCliConfig(p: ProxyStack, s3: Record<string, string> = {}): void {
  const lines = Object.entries(s3).map(([k, v]) => `  ${k} = ${v}`);
  writeFileSync(path.join(p.dir, 'aws-config'), `[default]\n${lines.length ? `s3 =\n${lines.join('\n')}\n` : ''}`);
}

/** A raw CONNECT: the status line, headers and body the proxy answered, and the socket when it said 200. */
export function connect(proxyUrl: string, target: string): Promise<{ status: number; head: string; body: string; socket: net.Socket }> {
  const u = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ status, head, body: buf.subarray(end + 4, end + 4 + length).toString(), socket });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** TLS through an open tunnel, trusting only the test CA; `servername` is the SNI sent. */
export function tlsThrough(socket: net.Socket, ca: string, servername: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, ca, servername }, () => resolve(secure));
    secure.once('error', reject);
  });
}
