/**
 * STS's `PackedPolicySize`: AWS packs the session policies and session tags into a compressed binary form with a
 * fixed budget and reports only the share used, as a percentage (docs/aws.md, "Packed size"). The
 * exact format is not published, so the emulator models it: the raw-deflated size of the minified inline policy
 * with the managed policy ARNs, plus the raw-deflated size of the tags (inherited transitive tags included), as a
 * share of a 2,048-byte budget, rounded up. It grows with policy and tag size; a full 2,048-char policy alone
 * stays under 100%, while many long, varied tags go over, as they do on AWS.
 */
import { deflateRawSync } from 'node:zlib';

/** Bytes of packed form that make 100%. */
export const PACKED_BUDGET_BYTES = 2048;

const deflatedSize = (text: string): number => (text === '' ? 0 : deflateRawSync(Buffer.from(text, 'utf8'), { level: 9 }).length);

/** The percentage AWS would report; 0 when neither policies nor tags were passed. */
export function packedPolicySize(input: {
  minifiedPolicy?: string;
  policyArns: string[];
  tags: Record<string, string>;
  transitiveTagKeys: string[];
}): number {
  const policyPart = [input.minifiedPolicy ?? '', ...input.policyArns].filter((s) => s !== '').join('\n');
  const tagEntries = Object.entries(input.tags);
  const tagPart = tagEntries.length === 0 ? '' : [...tagEntries.map(([k, v]) => `${k}\u0000${v}`), ...input.transitiveTagKeys].join('\u0001');
  const bytes = deflatedSize(policyPart) + deflatedSize(tagPart);
  return Math.ceil((bytes * 100) / PACKED_BUDGET_BYTES);
}
