import type { RevokeResult, Session } from '../client/types';

const COLUMNS: Array<[string, (s: Session) => string]> = [
  ['ID', (s) => s.id],
  ['STATE', (s) => s.state],
  ['DEVELOPER', (s) => s.developer],
  ['PROJECT', (s) => s.project],
  ['TEMPLATE', (s) => s.template],
  ['ACCESS', (s) => s.accessType],
  ['EXPIRES', (s) => s.expiresAt],
];

/** Sessions as an aligned text table with a header row. */
export function formatSessionTable(sessions: Session[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...sessions.map((s) => COLUMNS.map(([, get]) => printable(get(s) ?? '')))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** What a revocation did, one fact a line (or JSON with `pending`); pending roles come with the service's note. */
export function formatRevocation(result: RevokeResult, json = false): string {
  if (json) return `${JSON.stringify({ ...result.revocation, pending: result.pending }, null, 2)}\n`;
  const r = result.revocation;
  const scope = r.selector.value === undefined ? r.selector.kind : `${r.selector.kind} ${r.selector.value}`;
  const lines = [`revocation ${r.revocationId}: ${scope}, ${r.sessionsRevoked} session(s) revoked`];
  if (r.blockedUntil) lines.push(`new vends blocked until ${r.blockedUntil}`);
  for (const role of r.roles) {
    lines.push(`  ${role.roleArn}: ${role.state}${role.compacted ? ' (compacted)' : ''}${role.error ? ` (${printable(role.error)})` : ''}`);
  }
  if (result.pending) lines.push('AWS enforcement is pending for some role; the service keeps retrying.');
  if (r.note) lines.push(printable(r.note));
  return lines.join('\n') + '\n';
}

/** Drops control characters so a stored value cannot rewrite the operator's terminal. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
