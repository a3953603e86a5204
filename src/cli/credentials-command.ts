import { Option, type Command } from 'commander';
import { isStsVendError } from '../client/errors';
import type { StsVendClient } from '../client/sts-vend-client';
import type { VendResponse } from '../client/types';
import { approvalWait } from './approvals-command';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { CliError, usage, type CliContext } from './context';
import { cacheKey, CredentialCache, defaultCacheDir, tokenSubject } from './credential-cache';
import { FORMATS, formatCredentials, fromContainer, type CredentialFormat } from './credential-format';
import { addVendOptions, vendRequest, type VendOptions } from './vend-options';

interface CredentialsOptions extends VendOptions, ConnectionOptions {
  format: CredentialFormat;
  cache?: boolean;
  cacheDir?: string;
  check?: boolean;
}

/** A cached credential is reused only while more than this is left (the SDKs refresh inside this margin). */
const REUSE_MARGIN_MS = 5 * 60_000;
/** Answers that mean the cached session is simply over: vend a new one rather than fail. */
const SESSION_OVER = new Set(['SessionExpired', 'SessionNotFound', 'InvalidToken']);

/** `sts-vend credentials`: vend (or reuse from the private cache) and print in the asked format. */
export function registerCredentials(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(addVendOptions(cmd.description('vend task-scoped credentials and print them (credential_process JSON by default)')))
    .addOption(new Option('--format <format>', 'process: credential_process JSON; env: export lines; json: the service answer').choices(FORMATS).default('process'))
    .option('--cache', 'keep the session in a private cache and reuse its credential while more than 5 minutes are left')
    .option('--cache-dir <dir>', 'cache directory (default $XDG_CACHE_HOME/sts-vend or ~/.cache/sts-vend)')
    .option('--check', 'with --cache, ask the service before reusing, so a revoked session fails at once')
    .action(async (opts: CredentialsOptions) => {
      ctx.out(formatCredentials(opts.format, await obtain(opts, ctx)));
    });
}

async function obtain(opts: CredentialsOptions, ctx: CliContext): Promise<VendResponse> {
  if (!opts.cache && (opts.check || opts.cacheDir !== undefined)) throw usage('--check and --cache-dir need --cache');
  const body = vendRequest(opts, opts.cache ? 'container' : 'credentials');
  const { client, url, token } = await connect(opts, ctx);
  if (!opts.cache) return client.vend(body, approvalWait(ctx));

  const cache = new CredentialCache(opts.cacheDir ?? defaultCacheDir(ctx.env));
  const key = cacheKey({ url, template: body.template, parameters: body.parameters ?? {}, project: body.project, durationSeconds: body.durationSeconds, subject: tokenSubject(token) });
  const cached = cache.read(key);
  if (cached) {
    let reused: VendResponse | undefined;
    try {
      reused = await reuse(client, cached.response, opts.check === true);
    } catch (err) {
      // A refused session (revoked, blocked) is of no further use; a service outage is no reason to forget it.
      if (isStsVendError(err) && err.status >= 400 && err.status < 500) cache.remove(key);
      throw err;
    }
    if (reused) {
      if (reused !== cached.response) cache.write(key, { version: 1, response: reused });
      return reused;
    }
    cache.remove(key);
  }
  const res = await client.vend(body, approvalWait(ctx));
  if (!res.container) throw new CliError('bad_response', 'the service answered no container URL, which --cache needs; it may predate container delivery');
  cache.write(key, { version: 1, response: res });
  return res;
}

/**
 * The cached answer when its credential has more than 5 minutes left (asking the service first with --check),
 * else the session's refreshed credential; undefined when the session is over and a new vend is due.
 */
async function reuse(client: StsVendClient, res: VendResponse, check: boolean): Promise<VendResponse | undefined> {
  const container = res.container!;
  if (!check && Date.parse(res.credentials.expiration) - Date.now() > REUSE_MARGIN_MS) return res;
  if (res.sessionExpiresAt && Date.parse(res.sessionExpiresAt) <= Date.now()) return undefined;
  try {
    const fresh = await client.credentials(container.url, container.authorizationToken);
    if (fresh.AccessKeyId === res.credentials.accessKeyId && fresh.Expiration === res.credentials.expiration) return res;
    return { ...res, expiresAt: fresh.Expiration, credentials: fromContainer(fresh) };
  } catch (err) {
    if (isStsVendError(err) && SESSION_OVER.has(err.code)) return undefined;
    throw err;
  }
}
