/**
 * A template's policy with its parameters generalised: the set of everything any render of the template could
 * grant, written as one policy. Each `{{param}}` and `{{identity.*}}` stands for a value the linter keeps free of
 * `*`, `?` and `${`, so where IAM matches globs (Resource, the *Like and Arn operators) a `*` in its place matches
 * every render. Where a parameter cannot become a glob (a number, a date, a negated operator) the comparison is
 * dropped, which only widens. IAM's own `${aws:...}` variables pass through untouched.
 */
import { parseConditionOperator, type BaseOperator, type ParsedOperator } from '../policy/condition-operators';
import { asArray, type ConditionBlock, type ConditionScalar, type ConditionValue, type Statement } from '../policy/document';
import { fillPlaceholders, placeholdersIn } from '../templates/placeholders';

// Filled in for every placeholder, then split on: STS refuses U+0000 in a session policy, and every template's
// sample render is checked as one, so no template text contains it.
const MARK = '\u0000';

const hasPlaceholder = (v: unknown): boolean => typeof v === 'string' && placeholdersIn(v).length > 0;

/** True when any string in the value holds a placeholder. */
export function containsPlaceholder(value: unknown): boolean {
  return hasPlaceholder(JSON.stringify(value));
}

/** Glob characters as IAM's escapes for a literal `*` / `?`, outside `${...}` variables (which stay variables). */
function escapeGlob(text: string): string {
  return text
    .split(/(\$\{[^}]*\})/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[*?]/g, (c) => `\${${c}}`)))
    .join('');
}

/**
 * `text` with each placeholder replaced by `*` (runs of `*` folded into one). With `escapeLiterals`, the text
 * around the placeholders was an exact comparison and its own `*` / `?` are escaped to stay literal.
 */
export function generaliseText(text: string, escapeLiterals = false): string {
  const parts = fillPlaceholders(text, () => MARK).split(MARK);
  return (escapeLiterals ? parts.map(escapeGlob) : parts).join('*').replace(/\*{2,}/g, '*');
}

// Operators whose values are globs once a placeholder is a `*`. StringEquals becomes StringLike (escaping its
// literal text); the Arn operators already match `*` in every ARN component.
const GLOB_OPERATOR: Partial<Record<BaseOperator, BaseOperator>> = {
  StringEquals: 'StringLike',
  StringLike: 'StringLike',
  ArnEquals: 'ArnEquals',
  ArnLike: 'ArnLike',
};

const operatorName = (op: ParsedOperator, base: BaseOperator): string => `${op.set ? `${op.set}:` : ''}${base}${op.ifExists ? 'IfExists' : ''}`;
const oneOrMany = (values: ConditionScalar[]): ConditionValue => (values.length === 1 ? (values[0] as ConditionScalar) : values);

/** A statement's Condition generalised; undefined when nothing remains. `note` hears every dropped comparison. */
function generaliseCondition(condition: ConditionBlock, path: string, note: (text: string) => void): ConditionBlock | undefined {
  const out: ConditionBlock = {};
  const put = (op: string, key: string, value: ConditionValue): void => void ((out[op] ??= {})[key] = value);
  for (const [name, block] of Object.entries(condition)) {
    const op = parseConditionOperator(name);
    for (const [key, raw] of Object.entries(block)) {
      const values = asArray(raw);
      const where = `${path}.Condition.${name}["${key}"]`;
      if (!op || !values.some(hasPlaceholder)) {
        put(name, key, raw);
      } else if (op.negated) {
        // "not equal to any of these": fewer values exclude less, so dropping the parameter's value only widens.
        const fixed = values.filter((v) => !hasPlaceholder(v));
        if (fixed.length > 0) put(name, key, oneOrMany(fixed));
        else note(`${where} excludes a parameter's value; the ceiling drops that comparison`);
      } else {
        const globBase = GLOB_OPERATOR[op.base];
        const target = globBase ? operatorName(op, globBase) : undefined;
        // Two operators on one key are ANDed; folding one into the other would change the meaning.
        if (!globBase || !target || (target !== name && condition[target]?.[key] !== undefined)) {
          note(`${where} compares a parameter with ${name}; the ceiling drops that comparison`);
          continue;
        }
        const escape = globBase !== op.base;
        put(target, key, oneOrMany(values.map((v) => (hasPlaceholder(v) || escape ? generaliseText(String(v), escape) : v))));
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * One Allow statement of a template, generalised (no Sid: statements of several templates are merged later).
 * Actions are literal (the linter refuses placeholders there). A NotResource entry holding a parameter excludes a
 * different resource in every render, so it is dropped; with none left the statement applies to every resource.
 */
export function generaliseAllow(s: Statement, path: string, note: (text: string) => void): Statement {
  const out: Statement = { Effect: 'Allow' };
  if (s.Action !== undefined) out.Action = s.Action;
  if (s.NotAction !== undefined) out.NotAction = s.NotAction;
  if (s.Resource !== undefined) out.Resource = asArray(s.Resource).map((r) => generaliseText(r));
  if (s.NotResource !== undefined) {
    const fixed = asArray(s.NotResource).filter((r) => !hasPlaceholder(r));
    if (fixed.length < asArray(s.NotResource).length) note(`${path}.NotResource names a parameter; the ceiling drops that exclusion`);
    if (fixed.length > 0) out.NotResource = fixed;
    else out.Resource = '*';
  }
  if (s.Condition !== undefined) {
    const condition = generaliseCondition(s.Condition, path, note);
    if (condition) out.Condition = condition;
  }
  return out;
}
