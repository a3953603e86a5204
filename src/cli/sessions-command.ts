import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Session, SessionFilters } from '../client/types';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { usage, type CliContext } from './context';
import { formatSessionTable } from './operator-format';

interface SessionsOptions extends ConnectionOptions {
  developer?: string;
  issuer?: string;
  project?: string;
  template?: string;
  role?: string;
  state?: ListedState;
  limit?: number;
  cursor?: string;
  all?: boolean;
  json?: boolean;
}

/** The listing holds active sessions only (openapi.yaml); a revoked or ended one is read by id. */
type ListedState = NonNullable<SessionFilters['state']>;
const STATES: ListedState[] = ['pending', 'live'];

function pageSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 500) throw new InvalidArgumentError('must be a whole number from 1 to 500');
  return n;
}

/** `sts-vend sessions`: list sessions for operators, one page or (--all) every page. */
export function registerSessions(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(cmd.description('list sessions (operators)'))
    .option('--developer <developer>', 'only this developer: the key as listings show it, or a raw claim with --issuer')
    .option('--issuer <name>', "the issuer (name or iss URL) whose raw claim --developer is")
    .option('--project <project>', 'only this project')
    .option('--template <name>', 'only this template')
    .option('--role <arn>', 'only this role')
    .addOption(new Option('--state <state>', 'only sessions in this state').choices(STATES))
    .option('--limit <n>', 'sessions per page (1-500)', pageSize)
    .option('--cursor <cursor>', 'start at this page (the nextCursor of an earlier --json listing)')
    .option('--all', 'follow the cursor through every page')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: SessionsOptions) => {
      const { client } = await connect(opts, ctx);
      if (opts.issuer !== undefined && opts.developer === undefined) throw usage('--issuer names the issuer of a --developer claim');
      const who = opts.issuer === undefined ? { developer: opts.developer } : { issuer: opts.issuer, claim: opts.developer };
      const filters: SessionFilters = { ...who, project: opts.project, template: opts.template, role: opts.role, state: opts.state, limit: opts.limit };
      const sessions: Session[] = [];
      let cursor = opts.cursor;
      do {
        const page = await client.listSessions({ ...filters, cursor });
        sessions.push(...page.sessions);
        cursor = page.nextCursor;
      } while (opts.all && cursor);
      ctx.out(opts.json ? `${JSON.stringify(cursor ? { sessions, nextCursor: cursor } : { sessions }, null, 2)}\n` : formatSessionTable(sessions));
      if (cursor && !opts.json) ctx.err(`sts-vend: note: more sessions than one page; use --all, or --cursor ${cursor} for the next\n`);
    });
}
