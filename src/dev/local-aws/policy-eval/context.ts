/** The request context a policy is evaluated against, with IAM's case-insensitive key lookup. */

export type ContextValue = string | string[] | undefined;
/** Request context: keys like 'aws:PrincipalTag/project', 'aws:TokenIssueTime', 's3:prefix'; lookup is case-insensitive on the key. */
export type RequestContext = Record<string, ContextValue>;
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/**
 * A context indexed by lower-cased key. Lower-casing the whole key is right for every key IAM defines: key names
 * are case-insensitive, and so is the tag key inside `aws:PrincipalTag/<key>` and `aws:RequestTag/<key>`.
 */
export class Context {
  private readonly values = new Map<string, string[]>();

  constructor(context: RequestContext) {
    for (const [key, value] of Object.entries(context)) {
      if (value !== undefined) this.values.set(key.toLowerCase(), Array.isArray(value) ? value : [value]);
    }
  }

  /** All values of a key; undefined when the key is absent (an empty list is present but holds no value). */
  get(key: string): string[] | undefined {
    return this.values.get(key.toLowerCase());
  }

  /** The value a policy variable resolves to: only a key holding exactly one value can be substituted. */
  single(key: string): string | undefined {
    const values = this.get(key);
    return values && values.length === 1 ? values[0] : undefined;
  }
}
