/**
 * Template placeholders: `{{param}}`, `{{identity.developer}}` and `{{identity.project}}`. They are filled into the
 * string values of the parsed policy document, never into JSON text, so a value can never close a string or add a
 * key. IAM's own `${aws:...}` variables are a different syntax and pass through untouched.
 */

const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]*|identity\.(?:developer|project))\}\}/g;

export const IDENTITY_PLACEHOLDERS = ['identity.developer', 'identity.project'] as const;

/**
 * Identity values are bounded by the session tag value limit (docs/aws.md: 0..256 chars), the same value the
 * `developer` / `project` tags carry, so `{{identity.project}}` and `${aws:PrincipalTag/project}` agree.
 */
export const MAX_IDENTITY_LENGTH = 256;

/**
 * A character no value filled into a policy may contain: IAM wildcards (`*`, `?`), policy-variable syntax (`$`, `{`,
 * `}`), quotes and backslash, control characters, and anything STS refuses in a session policy (outside U+0000-U+00FF,
 * which also rules out look-alikes such as Cyrillic letters or a fullwidth asterisk).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE_VALUE_CHAR = /[*?${}"'`\\\u0000-\u001f\u007f-\u009f]|[^\u0000-\u00ff]/u;

// docs/aws.md: tag values [\p{L}\p{Z}\p{N}_.:/=+\-@].
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+@-]*$/u;

/** A problem with an identity value filled into a policy, or undefined when it is safe to use. */
export function identityValueProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_IDENTITY_LENGTH) return `must be 1..${MAX_IDENTITY_LENGTH} characters`;
  if (!TAG_VALUE.test(value) || UNSAFE_VALUE_CHAR.test(value)) return 'contains characters outside the session tag character set';
  return undefined;
}

/** The placeholder names in one string, in order (duplicates kept). */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** True when `{{` or `}}` remains after removing well-formed placeholders (e.g. `{{ bucket }}`, `{{a-b}}`). */
export function hasMalformedPlaceholder(text: string): boolean {
  const rest = text.replace(PLACEHOLDER, '');
  return rest.includes('{{') || rest.includes('}}');
}

/** `policy.Statement[0].Condition.StringLike["s3:prefix"]`: a readable path for problems. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Calls `onString` for every string value and `onKey` for every object key of a parsed JSON/YAML value. */
export function walkStrings(
  value: unknown,
  path: string,
  onString: (text: string, path: string) => void,
  onKey: (key: string, path: string) => void = () => undefined,
): void {
  if (typeof value === 'string') onString(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, childPath(path, i), onString, onKey));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      onKey(key, childPath(path, key));
      walkStrings(item, childPath(path, key), onString, onKey);
    }
  }
}

/**
 * A deep copy of `value` with every placeholder in its string values replaced by `resolve(name)`. Keys are copied
 * as they are (the linter refuses placeholders in keys).
 */
export function fillPlaceholders<T>(value: T, resolve: (name: string) => string): T {
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(PLACEHOLDER, (_m, name: string) => resolve(name));
    if (Array.isArray(v)) return v.map(fill);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, fill(item)]));
    }
    return v;
  };
  return fill(value) as T;
}
