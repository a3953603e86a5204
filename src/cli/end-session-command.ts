import { InvalidArgumentError, type Command } from 'commander';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import type { CliContext } from './context';
import { formatRevocation } from './operator-format';

function sessionId(value: string): string {
  if (!/^[A-Za-z0-9]{12}$/.test(value)) throw new InvalidArgumentError('a session id is 12 letters and digits');
  return value;
}

/** `sts-vend end-session ID`: a session's owner (or an operator) ends it early, through the revocation path. */
export function registerEndSession(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(cmd.description('end one of your sessions early'))
    .argument('<id>', 'session id', sessionId)
    .option('--json', 'print the revocation as JSON')
    .action(async (id: string, opts: ConnectionOptions & { json?: boolean }) => {
      const { client } = await connect(opts, ctx);
      ctx.out(formatRevocation(await client.endSession(id), opts.json));
    });
}
