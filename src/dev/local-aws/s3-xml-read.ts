/**
 * Reading the few XML bodies S3 requests carry (CompleteMultipartUpload, DeleteObjects): elements by name,
 * their text with XML's entities decoded. Not a general XML parser: these bodies have no attributes that
 * matter, no CDATA and no nesting of same-named elements.
 */

/** The inner XML of every `<name>...</name>` (or `<name/>`, as ''), in order. */
export function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}>)`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1] ?? '');
  return out;
}

/** The decoded text of the first `<child>` in `xml`, or undefined when there is none. */
export function textOf(xml: string, child: string): string | undefined {
  const inner = elements(xml, child)[0];
  return inner === undefined ? undefined : decodeEntities(inner);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(Number(ent.slice(1)));
    return NAMED[ent] ?? whole;
  });
}
