/**
 * Checks an emulator state (from YAML or a test) and lists every problem with its path, so a broken state file
 * is fixed in one pass instead of failing on the first request that touches it.
 */
import { validatePolicy } from '../../policy/document';
import type { LocalAwsState } from './types';

type Obj = Record<string, unknown>;
const KNOWN_KEYS = ['accountId', 'region', 'credentials', 'roles', 'managedPolicies', 'buckets', 'tables'];
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkPolicy(problems: string[], where: string, value: unknown, kind: 'identity' | 'trust'): void {
  const result = validatePolicy(value, kind);
  if (!result.ok) for (const e of result.errors) problems.push(`${where}: ${e}`);
}

function checkRole(problems: string[], where: string, r: unknown, accountId: unknown, managedNames: Set<string>): void {
  if (!isObj(r)) return void problems.push(`${where}: must be an object`);
  if (typeof r['name'] !== 'string' || !/^[\w+=,.@-]{1,64}$/.test(r['name'])) problems.push(`${where}.name: 1..64 chars of [\\w+=,.@-]`);
  if (r['path'] !== undefined && (typeof r['path'] !== 'string' || !/^\/([\u0021-\u007E]*\/)?$/.test(r['path']))) {
    problems.push(`${where}.path: must start and end with /`);
  }
  checkPolicy(problems, `${where}.trustPolicy`, r['trustPolicy'], 'trust');
  const max = r['maxSessionDuration'];
  // docs/aws.md: a role's MaxSessionDuration is 3600..43200.
  if (max !== undefined && (!Number.isInteger(max) || (max as number) < 3600 || (max as number) > 43200)) {
    problems.push(`${where}.maxSessionDuration: an integer in 3600..43200`);
  }
  const inline = r['inlinePolicies'];
  if (inline !== undefined && !isObj(inline)) problems.push(`${where}.inlinePolicies: a map of policy name to document`);
  if (isObj(inline)) for (const [name, doc] of Object.entries(inline)) checkPolicy(problems, `${where}.inlinePolicies.${name}`, doc, 'identity');
  const managed = r['managedPolicyArns'];
  if (managed !== undefined && !Array.isArray(managed)) problems.push(`${where}.managedPolicyArns: a list of ARNs`);
  if (Array.isArray(managed)) {
    managed.forEach((arn, i) => {
      const m = typeof arn === 'string' ? /^arn:aws:iam::(\d{12}):policy\/(.+)$/.exec(arn) : null;
      if (!m || m[1] !== accountId || !managedNames.has(m[2] ?? '')) problems.push(`${where}.managedPolicyArns[${i}]: not a managed policy of this state (${String(arn)})`);
    });
  }
}

/** Every problem of `value` as a LocalAwsState; empty when it is valid. */
export function stateProblems(value: unknown): string[] {
  if (!isObj(value)) return ['state: must be a mapping'];
  const problems: string[] = [];
  // `x-...` keys hold YAML anchors (a shared trust policy) and are otherwise ignored.
  for (const key of Object.keys(value)) if (!KNOWN_KEYS.includes(key) && !key.startsWith('x-')) problems.push(`${key}: unknown field`);
  const accountId = value['accountId'];
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) problems.push('accountId: 12 digits (quote it in YAML)');
  if (value['region'] !== undefined && typeof value['region'] !== 'string') problems.push('region: a string');
  const creds = value['credentials'];
  if (!Array.isArray(creds) || creds.length === 0) problems.push('credentials: a non-empty list');
  else {
    creds.forEach((c, i) => {
      if (!isObj(c)) return void problems.push(`credentials[${i}]: must be an object`);
      if (typeof c['accessKeyId'] !== 'string' || !/^AKIA[A-Z0-9]{12,124}$/.test(c['accessKeyId'])) problems.push(`credentials[${i}].accessKeyId: AKIA followed by 12+ upper-case letters or digits`);
      if (typeof c['secretAccessKey'] !== 'string' || c['secretAccessKey'].length < 16) problems.push(`credentials[${i}].secretAccessKey: a string of 16+ chars`);
      if (typeof c['userName'] !== 'string' || !/^[\w+=,.@-]{1,64}$/.test(c['userName'])) problems.push(`credentials[${i}].userName: 1..64 chars of [\\w+=,.@-]`);
    });
  }
  const managed = value['managedPolicies'];
  const managedNames = new Set<string>();
  if (managed !== undefined && !Array.isArray(managed)) problems.push('managedPolicies: a list');
  if (Array.isArray(managed)) {
    managed.forEach((p, i) => {
      if (!isObj(p) || typeof p['name'] !== 'string') return void problems.push(`managedPolicies[${i}]: {name, document}`);
      managedNames.add(p['name']);
      checkPolicy(problems, `managedPolicies[${i}].document`, p['document'], 'identity');
    });
  }
  const roles = value['roles'];
  if (!Array.isArray(roles)) problems.push('roles: a list');
  else {
    roles.forEach((r, i) => checkRole(problems, `roles[${i}]`, r, accountId, managedNames));
    const names = roles.map((r) => (isObj(r) ? String(r['name']).toLowerCase() : ''));
    names.forEach((n, i) => names.indexOf(n) !== i && problems.push(`roles[${i}].name: duplicate (role names are case-insensitive)`));
  }
  const buckets = value['buckets'];
  if (buckets !== undefined && !Array.isArray(buckets)) problems.push('buckets: a list');
  if (Array.isArray(buckets)) {
    buckets.forEach((b, i) => {
      if (!isObj(b) || typeof b['name'] !== 'string') return void problems.push(`buckets[${i}]: {name, objects?}`);
      const objects = b['objects'];
      if (objects !== undefined && (!isObj(objects) || Object.values(objects).some((o) => typeof o !== 'string'))) {
        problems.push(`buckets[${i}].objects: a map of key to text content`);
      }
    });
  }
  const tables = value['tables'];
  if (tables !== undefined && !Array.isArray(tables)) problems.push('tables: a list');
  if (Array.isArray(tables)) {
    tables.forEach((t, i) => {
      if (!isObj(t) || typeof t['name'] !== 'string' || typeof t['key'] !== 'string') return void problems.push(`tables[${i}]: {name, key, items?}`);
      const items = t['items'];
      if (items !== undefined && (!Array.isArray(items) || items.some((it) => !isObj(it) || !isObj(it[t['key'] as string]) || typeof (it[t['key'] as string] as Obj)['S'] !== 'string'))) {
        problems.push(`tables[${i}].items: a list of items, each with a string key attribute {${String(t['key'])}: {S: ...}}`);
      }
    });
  }
  return problems;
}

/** Throws one error listing every problem, naming `source` (a file path or "state"). */
export function assertValidState(value: unknown, source: string): asserts value is LocalAwsState {
  const problems = stateProblems(value);
  if (problems.length > 0) throw new Error(`invalid local AWS state in ${source}:\n  - ${problems.join('\n  - ')}`);
}
