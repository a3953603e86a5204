/**
 * Policy variables and wildcards: the text of a Resource or condition value becomes a pattern of literal text and
 * `*`/`?` wildcards once `${...}` variables are replaced with values from the request context.
 */
import type { Context } from './context';

/** A literal run of text, or a wildcard; `structural` literals come from the policy text itself, not a variable. */
export type Part = { text: string; structural: boolean } | '*' | '?';

/**
 * Replaces policy variables. `${key}` and `${key, 'default'}` take the context value (inserted literally: a `*` in a
 * tag value is not a wildcard); `${*}`, `${?}` and `${$}` are the literal characters. Returns undefined when a
 * variable's key is absent (or multi-valued) with no default: IAM then treats the element as not matching.
 * With `variables` false (Version 2008-10-17) `${...}` is plain text, as in IAM.
 */
export function toPattern(text: string, ctx: Context, variables: boolean): Part[] | undefined {
  const parts: Part[] = [];
  const literal = (t: string, structural: boolean) => t && parts.push({ text: t, structural });
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '*' || ch === '?') {
      parts.push(ch);
      i += 1;
      continue;
    }
    const close = variables && text.startsWith('${', i) ? text.indexOf('}', i + 2) : -1;
    if (close < 0) {
      literal(ch, true);
      i += 1;
      continue;
    }
    const inner = text.slice(i + 2, close);
    i = close + 1;
    if (inner === '*' || inner === '?' || inner === '$') {
      literal(inner, false);
      continue;
    }
    const m = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(inner);
    const value = m ? (ctx.single(m[1] as string) ?? m[2]) : undefined;
    if (value === undefined) return undefined;
    literal(value, false);
  }
  return parts;
}

/** The pattern as plain text, for operators without wildcards (StringEquals, ArnEquals...): `*` is just `*`. */
export function patternText(parts: Part[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whole-string glob match: `*` is any run (across `/` and `:`), `?` exactly one character. */
export function globMatch(parts: Part[], value: string, ignoreCase = false): boolean {
  const body = parts.map((p) => (p === '*' ? '.*' : p === '?' ? '.' : escape(p.text))).join('');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's').test(value);
}

/**
 * ARN match as IAM does it for Resource and ArnLike: partition, service, region and account are matched segment by
 * segment (a wildcard there stays inside its segment); the resource part is a glob in which `*` crosses `/` and `:`.
 * A pattern that is not a six-part ARN (such as `*`) is matched as a plain glob. Case-sensitive.
 */
export function arnMatch(parts: Part[], value: string): boolean {
  let colons = 0;
  for (const p of parts) if (typeof p !== 'string' && p.structural) colons += p.text.split(':').length - 1;
  if (colons < 5) return globMatch(parts, value);
  let segment = 0;
  let body = '';
  for (const p of parts) {
    if (p === '*' || p === '?') {
      body += segment < 5 ? (p === '*' ? '[^:]*' : '[^:]') : p === '*' ? '.*' : '.';
    } else if (!p.structural) body += escape(p.text);
    else {
      for (const ch of p.text) {
        if (ch === ':' && segment < 5) segment += 1;
        body += escape(ch);
      }
    }
  }
  return new RegExp(`^${body}$`, 's').test(value);
}

/** Action match: `*` or `service:Pattern`, case-insensitive as IAM action names are. */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*') return true;
  const parts: Part[] = [...pattern].map((ch) => (ch === '*' || ch === '?' ? ch : { text: ch, structural: true }));
  return globMatch(parts, action, true);
}
