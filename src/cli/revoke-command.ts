import type { Command } from 'commander';
import type { RevokeRequest } from '../client/types';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { usage, type CliContext } from './context';
import { formatRevocation } from './operator-format';
import { seconds } from './vend-options';

interface RevokeOptions extends ConnectionOptions {
  session?: string;
  developer?: string;
  issuer?: string;
  project?: string;
  template?: string;
  all?: boolean;
  reason: string;
  block?: number;
  json?: boolean;
}

/** The request body for exactly one selector; none or several is a usage error. */
export function revokeRequest(opts: RevokeOptions): RevokeRequest {
  const selectors: Array<[string, Partial<RevokeRequest> | undefined]> = [
    ['--session', opts.session === undefined ? undefined : { sessionId: opts.session }],
    // With --issuer, --developer is that issuer's raw claim; alone, it is the developer key.
    ['--developer', opts.developer === undefined ? undefined : { developer: opts.issuer === undefined ? opts.developer : { issuer: opts.issuer, claim: opts.developer } }],
    ['--project', opts.project === undefined ? undefined : { project: opts.project }],
    ['--template', opts.template === undefined ? undefined : { template: opts.template }],
    ['--all', opts.all ? { all: true } : undefined],
  ];
  const chosen = selectors.filter(([, v]) => v !== undefined);
  if (chosen.length !== 1) throw usage(`give exactly one of ${selectors.map(([n]) => n).join(', ')}${chosen.length ? ` (got ${chosen.map(([n]) => n).join(', ')})` : ''}`);
  if (opts.issuer !== undefined && opts.developer === undefined) throw usage('--issuer names the issuer of a --developer claim');
  if (!opts.reason.trim()) throw usage('--reason must not be empty');
  const body: RevokeRequest = { ...chosen[0]![1], reason: opts.reason };
  if (opts.block !== undefined) body.block = { durationSeconds: opts.block };
  return body;
}

/** `sts-vend revoke`: the kill switch (operators). Exit 0 once the service has the revocation, even if AWS is pending. */
export function registerRevoke(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(cmd.description('revoke sessions and refuse their refreshes (operators)'))
    .option('--session <id>', 'one session')
    .option('--developer <developer>', 'every session of a developer: the key as listings show it, or a raw claim with --issuer')
    .option('--issuer <name>', "the issuer (name or iss URL) whose raw claim --developer is")
    .option('--project <project>', 'every session of a project')
    .option('--template <name>', 'every session of a template')
    .option('--all', 'every session')
    .requiredOption('--reason <text>', 'why (recorded with the revocation)')
    .option('--block <seconds>', 'also refuse new vends in this scope for this long (60-2592000)', seconds)
    .option('--json', 'print the revocation as JSON')
    .action(async (opts: RevokeOptions) => {
      const body = revokeRequest(opts);
      const { client } = await connect(opts, ctx);
      ctx.out(formatRevocation(await client.revoke(body), opts.json));
    });
}
