import { Option, type Command } from 'commander';
import { isStsVendError } from '../client/errors';
import { HeldSession } from '../client/held-session';
import { reportedExpiration, rfc3339 } from '../client/reported-expiration';
import type { StsVendClient } from '../client/sts-vend-client';
import type { VendResponse } from '../client/types';
import { approvalWait } from './approvals-command';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { CliError, usage, type CliContext } from './context';
import { cacheKey, CredentialCache, defaultCacheDir, tokenSubject } from './credential-cache';
import { FORMATS, formatCredentials, type CredentialFormat } from './credential-format';
import { addVendOptions, vendRequest, type VendOptions } from './vend-options';

interface CredentialsOptions extends VendOptions, ConnectionOptions {
  format: CredentialFormat;
  /** commander's `--no-cache` sets this false; true by default. */
  cache: boolean;
  cacheDir?: string;
}

/** Answers that mean the cached session is simply over: vend a new one rather than fail. */
const SESSION_OVER = new Set(['SessionExpired', 'SessionNotFound', 'InvalidToken']);

/**
 * `sts-vend credentials`: print credentials in the asked format. By default through the private cache: the
 * first run vends a refreshable session; every later run for the same service, caller, template, parameters
 * and options reuses that session's credential after a checkpoint against the service (a revoked session fails
 * at once), and fetches the session's next credential only when this one nears expiry. `--no-cache` vends a
 * one-off credential every time.
 */
export function registerCredentials(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(addVendOptions(cmd.description('vend task-scoped credentials and print them (credential_process JSON by default)')))
    .addOption(new Option('--format <format>', 'process: credential_process JSON; env: export lines; json: the service answer').choices(FORMATS).default('process'))
    .option('--no-cache', 'vend a new one-off credential instead of reusing the cached session (each run is then an AssumeRole)')
    .option('--cache-dir <dir>', 'cache directory (default $XDG_CACHE_HOME/sts-vend or ~/.cache/sts-vend)')
    .action(async (opts: CredentialsOptions) => {
      ctx.out(formatCredentials(opts.format, await obtain(opts, ctx)));
    });
}

async function obtain(opts: CredentialsOptions, ctx: CliContext): Promise<VendResponse> {
  if (!opts.cache && opts.cacheDir !== undefined) throw usage('--cache-dir and --no-cache contradict each other');
  const body = vendRequest(opts, opts.cache ? 'container' : 'credentials');
  const { client, url, token } = await connect(opts, ctx);
  if (!opts.cache) return client.vend(body, approvalWait(ctx));

  const cache = new CredentialCache(opts.cacheDir ?? defaultCacheDir(ctx.env));
  // Everything that shapes the session is in the key, so two profiles that differ in any of it never share one.
  const key = cacheKey({ url, request: body, subject: tokenSubject(token) });
  const cached = cache.read(key);
  if (cached) {
    let reused: VendResponse | undefined;
    try {
      reused = await reuse(client, cached.response);
    } catch (err) {
      // A refused session (revoked, blocked) is of no further use; a service outage is no reason to forget it.
      if (isStsVendError(err) && err.status >= 400 && err.status < 500) cache.remove(key);
      throw err;
    }
    if (reused) {
      if (reused.credentials.accessKeyId !== cached.response.credentials.accessKeyId) cache.write(key, { version: 1, response: reused });
      return reported(reused);
    }
    cache.remove(key);
  }
  const res = await client.vend(body, approvalWait(ctx));
  if (!res.container) throw new CliError('bad_response', 'the service answered no container URL, which the cache needs; it may predate container delivery (use --no-cache)');
  cache.write(key, { version: 1, response: res });
  return reported(res);
}

/**
 * The cached session's credential after a checkpoint (refreshed through the session when it nears expiry), or
 * undefined when the session is over and a new vend is due. Failing closed: no answer from the service, no
 * credential.
 */
async function reuse(client: StsVendClient, res: VendResponse): Promise<VendResponse | undefined> {
  if (res.sessionExpiresAt && Date.parse(res.sessionExpiresAt) <= Date.now()) return undefined;
  const c = res.credentials;
  const session = new HeldSession(client, res.container!, { ...c, expiration: new Date(c.expiration) });
  try {
    const held = await session.use();
    return held.accessKeyId === c.accessKeyId ? res : { ...res, expiresAt: held.expiration.toISOString(), credentials: { ...held, expiration: held.expiration.toISOString() } };
  } catch (err) {
    if (isStsVendError(err) && SESSION_OVER.has(err.code)) return undefined;
    throw err;
  }
}

/** The answer as printed: the credential's Expiration moved to when the client must ask again. */
function reported(res: VendResponse): VendResponse {
  const at = rfc3339(reportedExpiration(new Date(res.credentials.expiration), new Date()));
  return { ...res, credentials: { ...res.credentials, expiration: at } };
}
