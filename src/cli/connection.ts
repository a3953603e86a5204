import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { StsVendClient } from '../client/sts-vend-client';
import { CliError, usage, type CliContext } from './context';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The options every command that talks to the service takes. */
export interface ConnectionOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  tokenCommand?: string;
}

/** Adds --url and the three ways to pass the OIDC token. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', `service URL (env STS_VEND_URL, default ${DEFAULT_URL})`)
    .option('--token <jwt>', 'OIDC ID token (visible to other local users in the process list; prefer the others)')
    .option('--token-file <path>', 'read the OIDC ID token from this file')
    .option('--token-command <command>', 'run this shell command and use its standard output as the OIDC ID token')
    .addHelpText('after', '\nWithout a token option, the token is read from env STS_VEND_TOKEN.');
}

/** The service URL: --url, else STS_VEND_URL, else the default. */
export function serviceUrl(opts: ConnectionOptions, env: NodeJS.ProcessEnv): string {
  const url = opts.url ?? env.STS_VEND_URL ?? DEFAULT_URL;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw usage(`--url must be an http(s) URL, got '${url}'`);
  }
  return url;
}

/**
 * The OIDC token from exactly one source: --token, --token-file, --token-command, or else STS_VEND_TOKEN.
 * A command's stderr goes to ours (an IdP CLI may prompt there); its stdout is the token.
 */
export async function resolveToken(opts: ConnectionOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const given = (['token', 'tokenFile', 'tokenCommand'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw usage('give only one of --token, --token-file, --token-command');
  let token: string | undefined;
  if (opts.token !== undefined) token = opts.token;
  else if (opts.tokenFile !== undefined) token = await readTokenFile(opts.tokenFile);
  else if (opts.tokenCommand !== undefined) token = await runTokenCommand(opts.tokenCommand, env);
  else token = env.STS_VEND_TOKEN;
  token = token?.trim();
  if (!token) throw new CliError('missing_token', 'no OIDC token: use --token-file, --token-command, --token or env STS_VEND_TOKEN');
  if (/\s/.test(token)) throw new CliError('malformed_token', 'the OIDC token contains white space');
  return token;
}

/** A client for the service with the resolved token. */
export async function connect(opts: ConnectionOptions, ctx: CliContext): Promise<{ client: StsVendClient; url: string; token: string }> {
  const url = serviceUrl(opts, ctx.env);
  const token = await resolveToken(opts, ctx.env);
  return { client: new StsVendClient({ url, token }), url, token };
}

async function readTokenFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError('token_file_unreadable', `cannot read --token-file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function runTokenCommand(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, env, stdio: ['inherit', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => reject(new CliError('token_command_failed', `--token-command could not start (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new CliError('token_command_failed', `--token-command ${signal ? `was killed by ${signal}` : `exited with status ${code}`}`));
    });
  });
}
