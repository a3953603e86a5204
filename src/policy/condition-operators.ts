/**
 * The IAM condition operator vocabulary and value formats, shared by the grammar check and the emulator's
 * evaluator so both accept exactly the same names and values.
 */
import { isIP } from 'node:net';

/** Base operators IAM knows, without the `ForAnyValue:`/`ForAllValues:` prefix or the `IfExists` suffix. */
export const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
] as const;

export type BaseOperator = (typeof CONDITION_OPERATORS)[number];
export type SetOperator = 'ForAnyValue' | 'ForAllValues';

export interface ParsedOperator {
  base: BaseOperator;
  set?: SetOperator;
  ifExists: boolean;
  /** True for the operators that hold when the value does NOT compare (they also hold on a missing key). */
  negated: boolean;
}

const KNOWN = new Set<string>(CONDITION_OPERATORS);
const NEGATED = new Set<BaseOperator>([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
  'ArnNotEquals',
  'ArnNotLike',
]);

/**
 * Splits `ForAllValues:StringLikeIfExists` into its parts. Names are case-sensitive, as in IAM's own examples;
 * `Null` takes no `IfExists` (it already is the existence test). Returns undefined for an unknown name.
 */
export function parseConditionOperator(name: string): ParsedOperator | undefined {
  let rest = name;
  let set: SetOperator | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon);
    if (prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') return undefined;
    set = prefix;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!KNOWN.has(rest)) return undefined;
  const base = rest as BaseOperator;
  if (base === 'Null' && (ifExists || set)) return undefined;
  return { base, ifExists, negated: NEGATED.has(base), ...(set ? { set } : {}) };
}

/** True for `${...}` policy variables, which IAM only substitutes in version 2012-10-17 documents. */
export function containsPolicyVariable(text: string): boolean {
  return /\$\{[^}]+\}/.test(text);
}

/** A condition number: a JSON number or a decimal string. Undefined when it is neither. */
export function parseIamNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return undefined;
  return Number(value);
}

/** A condition date: ISO 8601 (`2026-01-01`, `2026-01-01T12:00:00Z`) or epoch seconds. Returns epoch ms. */
export function parseIamDate(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}([Tt ][\d:.]+([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  // A time without a zone is UTC, as in IAM; Date.parse alone would read it as local time.
  const ms = Date.parse(/[T ][\d:.]+$/i.test(text) ? `${text}Z` : text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An `IpAddress` value: an IPv4 or IPv6 address with an optional `/prefix` in range for its family. */
export function parseCidr(value: unknown): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  if (typeof value !== 'string') return undefined;
  const [address = '', prefixText, extra] = value.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
