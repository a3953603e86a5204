/**
 * The console's one way to put text into HTML. Every value an agent or a caller controls (parameters, claims,
 * reasons, developer keys, template names) reaches a page only through `html` below, which escapes each
 * interpolation unless it is markup this module made itself.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** Markup made by `html` (already safe); nothing else can construct one. */
export class SafeHtml {
  private constructor(readonly markup: string) {}
  /** Internal: only `html` and `joinHtml` call this. */
  static of(markup: string): SafeHtml {
    return new SafeHtml(markup);
  }
  toString(): string {
    return this.markup;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.markup;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** A template tag: the literal parts are trusted markup, every `${value}` is escaped (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return SafeHtml.of(out);
}

/** A URL path segment or query value, percent-encoded (then escaped again by `html` where it is interpolated). */
export const q = (value: string): string => encodeURIComponent(value);

/** JSON for a <pre> block: escaped by `html` like any other text. */
export const pretty = (value: unknown): string => JSON.stringify(value, null, 2);
