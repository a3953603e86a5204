import type { Command } from 'commander';
import type { Approval, ApprovalWait } from '../client/types';
import { addConnectionOptions, connect, type ConnectionOptions } from './connection';
import { usage, type CliContext } from './context';

/** Drops control characters so a stored value (a reason, a claim) cannot rewrite the terminal. */
// eslint-disable-next-line no-control-regex
const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

const PROGRESS_EVERY_MS = 15_000;

/**
 * How `credentials` and `exec` wait when the template requires approval: one line on stderr when the request
 * is made, then one every 15 s while it waits, and one with the decision. Stdout stays the credentials only.
 */
export function approvalWait(ctx: CliContext, pollMs?: number): ApprovalWait {
  let lastLine = -Infinity;
  let lastState = '';
  return {
    ...(pollMs !== undefined ? { pollMs } : {}),
    onProgress(a: Approval, waitedMs: number) {
      const left = Math.max(0, Math.round((Date.parse(a.expiresAt) - Date.now()) / 1000));
      if (waitedMs === 0) {
        ctx.err(`sts-vend: template ${printable(a.template)} requires approval: request ${a.approvalId} is waiting for ${printable(a.approverGroups.join(', '))} (expires in ${left} s)\n`);
        lastLine = 0;
      } else if (a.state !== lastState && a.state !== 'pending') {
        ctx.err(`sts-vend: request ${a.approvalId} ${a.state}${a.decision ? ` by ${printable(a.decision.byClaim)}: ${printable(a.decision.reason)}` : ''}\n`);
      } else if (waitedMs - lastLine >= PROGRESS_EVERY_MS) {
        ctx.err(`sts-vend: still waiting for approval of ${a.approvalId}: ${Math.round(waitedMs / 1000)} s so far, expires in ${left} s\n`);
        lastLine = waitedMs;
      }
      lastState = a.state;
    },
  };
}

const COLUMNS: Array<[string, (a: Approval) => string]> = [
  ['ID', (a) => a.approvalId],
  ['STATE', (a) => a.state],
  ['REQUESTER', (a) => a.requester.developerClaim],
  ['TEMPLATE', (a) => a.template],
  ['PROJECT', (a) => a.project],
  ['EXPIRES', (a) => a.expiresAt],
  ['REASON', (a) => a.reason],
];

export function formatApprovals(list: Approval[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...list.map((a) => COLUMNS.map(([, get]) => printable(get(a))))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** `sts-vend approvals`: requests the caller made or may decide. */
export function registerApprovals(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(cmd.description('list approval requests you made or may decide'))
    .option('--state <state>', 'only requests in this state (pending, approved, denied, expired, collected)')
    .option('--json', 'print the approvals as JSON')
    .action(async (opts: ConnectionOptions & { state?: string; json?: boolean }) => {
      const { client } = await connect(opts, ctx);
      const list = await client.listApprovals(opts.state);
      ctx.out(opts.json ? `${JSON.stringify(list, null, 2)}\n` : formatApprovals(list));
    });
}

/** `sts-vend approve ID --reason ...` (or `--deny`): an approver decides a pending request. */
export function registerApprove(cmd: Command, ctx: CliContext): void {
  addConnectionOptions(cmd.description('approve (or with --deny, deny) a pending approval request'))
    .argument('<id>', 'the approval id (a...)')
    .option('--reason <text>', 'why (required to decide; recorded with the decision and shown to the requester)')
    .option('--deny', 'deny the request instead')
    .option('--show', 'print the request (requester, parameters, policy) without deciding')
    .action(async (id: string, opts: ConnectionOptions & { reason?: string; deny?: boolean; show?: boolean }) => {
      if (!opts.show && !opts.reason?.trim()) throw usage('--reason is required to approve or deny');
      const { client } = await connect(opts, ctx);
      if (opts.show) {
        ctx.out(`${JSON.stringify(await client.getApproval(id), null, 2)}\n`);
        return;
      }
      const a = await client.decide(id, opts.deny ? 'deny' : 'approve', opts.reason!);
      ctx.out(`approval ${a.approvalId}: ${a.state} (${printable(a.requester.developerClaim)}, template ${printable(a.template)})\n`);
    });
}
