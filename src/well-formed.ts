/**
 * Well-formed text at the boundary. A JSON string may carry a lone UTF-16 surrogate (`"\ud800"`): JavaScript
 * keeps it, but UTF-8 cannot encode it, Redis's Lua cjson refuses it and two different ones hash alike. Every
 * string a caller controls is checked here before it reaches anything else.
 */

// With the u flag a lone surrogate is a code point of category Cs; a valid pair is one astral code point.
const LONE_SURROGATE = /\p{Cs}/u;

export const isWellFormedText = (s: string): boolean => !LONE_SURROGATE.test(s);

/**
 * The path of the first string (value or object key) in a JSON value that is not well-formed Unicode, such as
 * `body.parameters.prefix`; undefined when every string is well formed. Walks with a stack of its own, so a
 * deeply nested body (which the parser accepts) cannot overflow the call stack.
 */
export function findIllFormed(value: unknown, path: string): string | undefined {
  const todo: Array<[unknown, string]> = [[value, path]];
  while (todo.length > 0) {
    const [v, at] = todo.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormedText(v)) return at;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) todo.push([v[i], `${at}.${i}`]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!;
        if (!isWellFormedText(k)) return `${at}.<key>`;
        todo.push([child, `${at}.${k}`]);
      }
    }
  }
  return undefined;
}
