/**
 * A target role's permission policy (its "ceiling"): the union of what the role's templates can grant, so the
 * role is no wider than its templates even without a session policy. Every template's Allow statements are
 * generalised (generalise-policy.ts) and merged; nothing else is added.
 *
 * Deny statements: a template's Deny narrows only that template's sessions. In the shared ceiling it would narrow
 * every template of the role, so one is kept only when it names no parameter and every template of the role has
 * it (then no render grants what it denies); any other Deny is dropped with a note (the ceiling is then wider
 * than the union, never narrower). The session policy still applies it to every vend.
 */
import { asArray, statementsOf, type ConditionBlock, type ConditionValue, type PolicyDocument, type Statement } from '../policy/document';
import { containsPlaceholder, generaliseAllow } from './generalise-policy';
import type { LoadedTemplate } from '../templates/types';

export interface RoleCeiling {
  policy: PolicyDocument;
  /** Where the ceiling is wider than the union of renders, and why. */
  notes: string[];
}

const sortedUnique = (values: string[]): string[] => [...new Set(values)].sort();
const oneOrMany = (values: string[]): string | string[] => (values.length === 1 ? (values[0] as string) : values);

const byText = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
const sortedEntries = <T>(o: Record<string, T>, f: (v: T) => T): Record<string, T> =>
  Object.fromEntries(Object.keys(o).sort().map((k) => [k, f(o[k] as T)]));
const canonicalValue = (v: ConditionValue): ConditionValue =>
  Array.isArray(v) ? [...new Map(v.map((x) => [`${typeof x}:${String(x)}`, x])).values()].sort(byText) : v;

/** Operators, keys and value lists in a fixed order (order means nothing to IAM), so equal conditions serialise equally. */
function canonicalCondition(c: ConditionBlock): ConditionBlock {
  return sortedEntries(c, (block) => sortedEntries(block, canonicalValue));
}

/** The statement with its lists sorted and deduplicated and its keys in IAM's usual order. */
function canonical(s: Statement): Statement {
  const out: Statement = { Effect: s.Effect };
  for (const f of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (s[f] !== undefined) out[f] = oneOrMany(sortedUnique(asArray(s[f])));
  }
  if (s.Condition) out.Condition = canonicalCondition(s.Condition);
  return out;
}

/**
 * Folds statements that differ only in `field` into one listing the union of their values (exact: a statement
 * applies when any listed value matches). NotAction / NotResource lists are never folded (that would narrow).
 */
function fold(statements: Statement[], field: 'Action' | 'Resource'): Statement[] {
  const groups = new Map<string, Statement>();
  const out: Statement[] = [];
  for (const s of statements) {
    if (s[field] === undefined) {
      out.push(s);
      continue;
    }
    const key = JSON.stringify({ ...s, [field]: undefined });
    const seen = groups.get(key);
    if (seen) seen[field] = oneOrMany(sortedUnique([...asArray(seen[field]), ...asArray(s[field])]));
    else {
      const copy = { ...s };
      groups.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** The ceiling of one role from the templates that name it (in load order). */
export function roleCeiling(templates: LoadedTemplate[]): RoleCeiling {
  const notes: string[] = [];
  const allows: Statement[] = [];
  const denySets: Array<Set<string>> = [];
  for (const t of templates) {
    const note = (text: string): void => void notes.push(`template "${t.name}": ${text}`);
    const denies = new Set<string>();
    statementsOf(t.policy).forEach((s, i) => {
      const path = `policy.Statement[${i}]`;
      if (s.Effect === 'Allow') allows.push(canonical(generaliseAllow(s, path, note)));
      else if (containsPlaceholder(s)) note(`${path} is a Deny naming a parameter; the ceiling leaves it to the session policy`);
      else denies.add(JSON.stringify(canonical(s)));
    });
    denySets.push(denies);
  }
  const [first, ...rest] = denySets;
  const shared = [...(first ?? [])].filter((d) => rest.every((set) => set.has(d)));
  denySets.forEach((set, i) => {
    const dropped = [...set].filter((d) => !shared.includes(d)).length;
    if (dropped > 0) notes.push(`template "${templates[i]?.name}": ${dropped} Deny statement(s) not shared by every template of the role; the ceiling leaves them to the session policy`);
  });
  // Actions first (same resources and conditions), then resources (same actions and conditions).
  const merged = fold(fold(dedupe(allows), 'Action'), 'Resource').map(canonical);
  const statements = [...merged, ...shared.map((d) => JSON.parse(d) as Statement)];
  return { policy: { Version: '2012-10-17', Statement: statements }, notes };
}

function dedupe(statements: Statement[]): Statement[] {
  return [...new Map(statements.map((s) => [JSON.stringify(s), s])).values()];
}
