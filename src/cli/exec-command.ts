import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { GatewayVendResponse } from '../client/types';
import { HeldSession } from '../client/held-session';
import type { StsVendClient } from '../client/sts-vend-client';
import { approvalWait } from './approvals-command';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { CliError, type CliContext } from './context';
import { CHECKPOINT_REUSE_MS, startContainerProxy } from './container-proxy';
import { gatewayEnv, gatewayProxyEnv, writeCaBundle } from './gateway-env';
import { addVendOptions, vendRequest, type VendOptions } from './vend-options';

// Removed from the child's environment because the SDKs' default chain would pick them before the container
// provider (static keys, a profile), or would point the container provider elsewhere (relative URI, token file).
const SHADOWING_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
];

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * `sts-vend exec -- <command>`: run a command whose SDK gets (and refreshes) credentials through the service,
 * and end the session when the command exits, however it exits (its own exit, a forwarded SIGINT/SIGTERM).
 */
export function registerExec(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(addVendOptions(cmd.description('run a command with a loopback container-credentials endpoint that refreshes through the service')))
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .option('--gateway', 'gateway delivery: the command gets the gateway endpoint and gateway credentials, never an AWS credential')
    .option('--proxy', 'with --gateway: proxy mode, the command reaches AWS host names through the gateway (HTTPS_PROXY, the gateway CA)')
    .addHelpText('after', '\nExample: sts-vend exec --template s3-read-prefix --param bucket=b --param prefix=p/ -- aws s3 ls s3://b/p/')
    .action(async (command: string[], opts: VendOptions & ConnectionOptions & { gateway?: boolean; proxy?: boolean }) => {
      if (opts.proxy && !opts.gateway) throw new CliError('usage', '--proxy goes with --gateway');
      const body = vendRequest(opts, opts.gateway ? 'gateway' : 'container');
      const { client } = await connect(opts, ctx);
      if (opts.gateway && opts.proxy) {
        const res = await client.vendGateway(body);
        ctx.exitCode = await runWithCa(res.gateway, (caFile) => runChild(command, gatewayProxyEnv(ctx.env, res.gateway, caFile)));
        return;
      }
      if (opts.gateway) {
        const res = await client.vendGateway(body);
        ctx.exitCode = await runChild(command, gatewayEnv(ctx.env, res.gateway));
        return;
      }
      const res = await client.vend(body, approvalWait(ctx));
      if (!res.container) throw new CliError('bad_response', 'the service answered no container URL; it may predate container delivery');
      const session = new HeldSession(client, res.container, { ...res.credentials, expiration: new Date(res.credentials.expiration) }, { checkpointReuseMs: CHECKPOINT_REUSE_MS });
      const proxy = await startContainerProxy(session);
      try {
        const env: NodeJS.ProcessEnv = { ...ctx.env };
        for (const name of SHADOWING_VARS) delete env[name];
        // Static keys in the shared credentials file ([default]) would also win over the container provider.
        env.AWS_SHARED_CREDENTIALS_FILE = os.devNull;
        env.AWS_CONTAINER_CREDENTIALS_FULL_URI = proxy.url;
        env.AWS_CONTAINER_AUTHORIZATION_TOKEN = proxy.token;
        ctx.exitCode = await runChild(command, env);
      } finally {
        await proxy.close();
        await endSession(client, res.container, res.sessionId, ctx);
      }
    });
}

/** Runs with the gateway CA in a private temporary file, removed once the command is done. */
async function runWithCa(g: GatewayVendResponse['gateway'], run: (caFile: string) => Promise<number>): Promise<number> {
  const caFile = writeCaBundle(g);
  try {
    return await run(caFile);
  } finally {
    rmSync(path.dirname(caFile), { recursive: true, force: true });
  }
}

/** Ends the session with its own token (the OIDC token may have expired while the command ran). */
async function endSession(client: StsVendClient, container: { url: string; authorizationToken: string }, id: string, ctx: CliContext): Promise<void> {
  try {
    await client.endContainerSession(container.url, container.authorizationToken);
  } catch (err) {
    // The command's exit code still wins; the session then ends at its lifetime, and the note says which one.
    ctx.err(`sts-vend: note: could not end session ${id} (${(err as Error).message}); it stays usable until it expires or is revoked\n`);
  }
}

/** Runs the command with inherited stdio, forwarding signals; resolves its exit code (128 + n when killed). */
function runChild(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    // While the child runs we stay alive to serve it; a signal meant for the pair goes on to the child.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    const cleanup = (): void => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(new CliError('exec_failed', `cannot run ${file} (${err.code ?? 'error'})`, err.code === 'ENOENT' ? 127 : 126));
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}
