/**
 * The container's HEALTHCHECK (`node dist/startup/healthcheck.js`): GET /healthz on this process's own port,
 * over HTTPS when the config serves TLS. The slim image has no curl, and reading the config here keeps the probe
 * right when PORT, STS_VEND_CONFIG or server.tls change. Exit 0 when healthy, 1 otherwise.
 */
import http from 'node:http';
import https from 'node:https';
import { loadConfig } from '../config';

/** Where a wildcard bind is reached from inside the same container. */
const LOCAL: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };

/** True when the service configured by `env` answers 200 on /healthz within `timeoutMs`. */
export async function checkHealth(env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<boolean> {
  let url: URL;
  try {
    const { server } = loadConfig(env);
    const host = LOCAL[server.host] ?? server.host;
    url = new URL(`${server.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${server.port}/healthz`);
  } catch {
    return false;
  }
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise<boolean>((resolve) => {
    // The certificate names the public host, not the loopback address this probe uses: only liveness is checked.
    const req = get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

if (require.main === module) {
  void checkHealth().then((ok) => process.exit(ok ? 0 : 1));
}
