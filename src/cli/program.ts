import { Command, CommanderError } from 'commander';
import { isStsVendError } from '../client/errors';
import { CliError, type CliContext } from './context';
import { registerApprovals, registerApprove } from './approvals-command';
import { registerCheck } from './check-command';
import { registerCredentials } from './credentials-command';
import { registerEndSession } from './end-session-command';
import { registerExec } from './exec-command';
import { registerGateway } from './gateway-env';
import { registerIamPlan } from './iam-plan-command';
import { registerRevoke } from './revoke-command';
import { registerSessions } from './sessions-command';

/** The `sts-vend` command tree, writing through ctx; commander errors are thrown, not exited on. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('sts-vend')
    .description('short-lived, task-scoped, revocable AWS credentials from an sts-vend service')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
      // One error format for the whole CLI: `sts-vend: <code>: <message>`.
      outputError: (s, write) => write(`sts-vend: usage: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run with --help for usage)');
  // Subcommands made with .command() inherit the output and exit settings above.
  registerCredentials(program.command('credentials'), ctx);
  registerExec(program.command('exec'), ctx);
  registerGateway(program.command('gateway'), ctx);
  registerSessions(program.command('sessions'), ctx);
  registerRevoke(program.command('revoke'), ctx);
  registerEndSession(program.command('end-session'), ctx);
  registerCheck(program.command('check'), ctx);
  registerIamPlan(program.command('iam-plan'), ctx);
  registerApprovals(program.command('approvals'), ctx);
  registerApprove(program.command('approve'), ctx);
  return program;
}

/**
 * Runs the CLI on `argv` (the words after the program name) and answers the exit code: 0, the child's code for
 * exec, 2 for usage errors, 1 for service and other errors. Every error is one line on stderr, never a secret.
 */
export async function run(argv: string[], ctx: CliContext): Promise<number> {
  try {
    await createProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      ctx.err(`sts-vend: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    if (isStsVendError(err)) {
      ctx.err(`sts-vend: ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}\n`);
      return 1;
    }
    ctx.err(`sts-vend: internal_error: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
