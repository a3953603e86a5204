import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, TEMPLATES_DIR, type StackOptions, type TestStack } from './stack';

export const APPROVAL_TEMPLATE = path.resolve(__dirname, '../../examples/templates/s3-write-approved.yaml');

export interface ConsoleStack {
  stack: TestStack;
  /** The service's origin, e.g. http://127.0.0.1:40123 (the console is at /console). */
  url: string;
  stop(): Promise<void>;
}

/**
 * The test stack with the console on, listening on a loopback port (the sign-in redirects need a real origin),
 * and the shipped templates plus the example template that requires approval.
 */
export async function startConsoleStack(opts: StackOptions = {}): Promise<ConsoleStack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-console-templates-'));
  cpSync(TEMPLATES_DIR, dir, { recursive: true });
  cpSync(APPROVAL_TEMPLATE, path.join(dir, 's3-write-approved.yaml'));
  const stack = await startStack({
    ...opts,
    configure: (raw) => {
      raw.templatesDir = dir;
      raw.console = { enabled: true };
      opts.configure?.(raw);
    },
  });
  const server: Server = stack.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    stack,
    url,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browserless sign-in (fetch, a cookie jar of one cookie per name): what a browser does, step by step. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly url: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request, no redirect following; the service's cookies only go to the service. */
  async fetch(target: string, init: RequestInit = {}): Promise<Response> {
    const absolute = new URL(target, this.url).toString();
    const headers = new Headers(init.headers);
    if (absolute.startsWith(this.url) && this.cookies.size > 0) headers.set('cookie', this.cookieHeader());
    const res = await fetch(absolute, { ...init, headers, redirect: 'manual' });
    if (absolute.startsWith(this.url)) this.keep(res);
    return res;
  }

  /** Signs in through the dev issuer's form as `email` in `groups`; answers the callback's response. */
  async signIn(email: string, groups: string[], issuer = 'corp'): Promise<Response> {
    const login = await this.fetch(`/console/login?issuer=${issuer}`);
    if (login.status !== 303) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const authorize = new URL(login.headers.get('location')!);
    const form = new URLSearchParams(authorize.searchParams);
    form.set('email', email);
    form.set('groups', groups.join(','));
    const granted = await fetch(authorize.origin + authorize.pathname, { method: 'POST', body: form, redirect: 'manual' });
    if (granted.status !== 303) throw new Error(`authorize answered ${granted.status}: ${await granted.text()}`);
    return this.fetch(granted.headers.get('location')!);
  }

  /** The CSRF token of the signed-in session, as the pages carry it. */
  async csrf(): Promise<string> {
    const page = await (await this.fetch('/console')).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!m) throw new Error('no CSRF token on the page');
    return m[1]!;
  }

  post(target: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(target, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }
}
