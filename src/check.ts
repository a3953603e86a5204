/**
 * `sts-vend check`: the start-up validation without Redis or AWS, so a policy repository can lint its config
 * and templates in its own CI. It reads the same file, applies the same environment overrides and runs the same
 * template loader and linter as `npm start`, and collects every problem instead of stopping at the first.
 */
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { ProxyCa } from './gateway/proxy-ca';
import { readTls } from './startup/tls';
import { loadTemplates, TemplateLoadError } from './templates/load-templates';

export interface CheckResult {
  ok: boolean;
  /** The config file read (absolute). */
  configFile: string;
  /** Each problem as one line: `file: field: message`. Empty when ok. */
  problems: string[];
  /** Names of the templates that loaded; empty when the config itself has problems (templates depend on it). */
  templates: string[];
}

/**
 * Validates `configFile` (default `$STS_VEND_CONFIG`, then ./sts-vend.yaml, as start does) and the templates it
 * points at, the TLS files when `server.tls` is set and the proxy CA when proxy mode is on. Never throws for a bad setup: problems are returned.
 */
export async function checkConfig(opts: { configFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CheckResult> {
  const env = { ...(opts.env ?? process.env), ...(opts.configFile ? { STS_VEND_CONFIG: opts.configFile } : {}) };
  const configFile = path.resolve(env.STS_VEND_CONFIG ?? 'sts-vend.yaml');
  const problems: string[] = [];
  const result = (templates: string[] = []): CheckResult => ({ ok: problems.length === 0, configFile, problems, templates });

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // loadConfig's own file-level problems already start with the file name.
    problems.push(...err.problems.map((p) => (p.startsWith(configFile) ? p : `${configFile}: ${p}`)));
    return result();
  }
  try {
    readTls(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map((p) => `${configFile}: ${p}`));
  }
  const proxy = config.gateway.proxy;
  if (proxy.enabled && proxy.caCertFile && proxy.caKeyFile) {
    // The CA pair proxy mode would load at start: readable, a CA, not expired, the key the certificate's.
    try {
      await ProxyCa.load({ caCertFile: proxy.caCertFile, caKeyFile: proxy.caKeyFile }, proxy);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.map((p) => `${configFile}: ${p}`));
    }
  }
  try {
    // The same options buildDeps passes (deps.ts): a template that would stop the service fails here too.
    const templates = await loadTemplates(config.templatesDir, {
      issuers: config.issuers.map((i) => i.name),
      maxDurationSeconds: config.sessions.maxDurationSeconds,
    });
    return result(templates.map((t) => t.name));
  } catch (err) {
    if (!(err instanceof TemplateLoadError)) throw err;
    problems.push(...err.problems);
    return result();
  }
}

/** The human-readable report the CLI prints (stdout when ok, stderr otherwise). */
export function formatCheckResult(r: CheckResult): string {
  if (r.ok) return `ok: ${r.configFile} and ${r.templates.length} template(s): ${r.templates.join(', ')}\n`;
  return `${r.problems.length} problem(s):\n${r.problems.map((p) => `  - ${p}\n`).join('')}`;
}
