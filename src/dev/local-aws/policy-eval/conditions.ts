/**
 * Condition blocks evaluated as IAM does: every operator and every key must hold (AND); the values listed for one
 * key are alternatives (OR). Negated operators (StringNotEquals, NotIpAddress...) hold when no listed value
 * compares, which also makes them hold on a missing key.
 */
import { BlockList } from 'node:net';
import type { ConditionBlock, ConditionScalar } from '../../../policy/document';
import { asArray } from '../../../policy/document';
import { parseCidr, parseConditionOperator, parseIamDate, parseIamNumber, type BaseOperator } from '../../../policy/condition-operators';
import type { Context } from './context';
import { arnMatch, globMatch, patternText, toPattern } from './patterns';

/** True when every condition in the block holds for this context. An unknown operator never holds. */
export function conditionsHold(block: ConditionBlock | undefined, ctx: Context, variables: boolean): boolean {
  if (!block) return true;
  return Object.entries(block).every(([name, keys]) =>
    Object.entries(keys).every(([key, values]) => conditionHolds(name, key, asArray(values), ctx, variables)),
  );
}

function conditionHolds(name: string, key: string, values: ConditionScalar[], ctx: Context, variables: boolean): boolean {
  const op = parseConditionOperator(name);
  if (!op) return false;
  const present = ctx.get(key);
  if (op.base === 'Null') {
    const absent = !present || present.length === 0;
    return values.some((v) => String(v).toLowerCase() === String(absent));
  }
  // One context value against the listed values: true when any listed value compares (before negation).
  const compares = (actual: string) => values.some((expected) => compare(op.base, actual, expected, ctx, variables));

  if (op.set) {
    // ForAllValues holds vacuously on a missing or empty key; ForAnyValue needs at least one value.
    if (!present || present.length === 0) return op.ifExists || op.set === 'ForAllValues';
    const each = (actual: string) => (op.negated ? !compares(actual) : compares(actual));
    return op.set === 'ForAnyValue' ? present.some(each) : present.every(each);
  }
  if (!present || present.length === 0) return op.ifExists || op.negated;
  const any = present.some(compares);
  return op.negated ? !any : any;
}

/** Whether one context value compares to one policy value under the positive form of the operator. */
function compare(base: BaseOperator, actual: string, expected: ConditionScalar, ctx: Context, variables: boolean): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase': {
      const parts = toPattern(String(expected), ctx, variables);
      if (!parts) return false;
      const text = patternText(parts);
      return base.endsWith('IgnoreCase') ? text.toLowerCase() === actual.toLowerCase() : text === actual;
    }
    case 'StringLike':
    case 'StringNotLike': {
      const parts = toPattern(String(expected), ctx, variables);
      return parts !== undefined && globMatch(parts, actual);
    }
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike': {
      // IAM gives ArnEquals the same per-segment wildcard matching as ArnLike.
      const parts = toPattern(String(expected), ctx, variables);
      return parts !== undefined && actual.startsWith('arn:') && arnMatch(parts, actual);
    }
    case 'Bool':
      return String(expected).toLowerCase() === actual.toLowerCase();
    case 'BinaryEquals':
      return String(expected) === actual;
    case 'IpAddress':
    case 'NotIpAddress':
      return ipInCidr(actual, String(expected));
    default:
      return compareOrdered(base, actual, expected);
  }
}

/** Numeric* and Date* operators: both sides parsed; an unparseable side never compares. */
function compareOrdered(base: BaseOperator, actual: string, expected: ConditionScalar): boolean {
  const parse = base.startsWith('Date') ? parseIamDate : parseIamNumber;
  const a = parse(actual);
  const e = parse(expected);
  if (a === undefined || e === undefined) return false;
  const relation = base.replace(/^(Numeric|Date)/, '');
  switch (relation) {
    case 'Equals':
    case 'NotEquals':
      return a === e;
    case 'LessThan':
      return a < e;
    case 'LessThanEquals':
      return a <= e;
    case 'GreaterThan':
      return a > e;
    case 'GreaterThanEquals':
      return a >= e;
    default:
      return false;
  }
}

/** IPv4 or IPv6 address inside a CIDR block (a bare address is a /32 or /128). */
function ipInCidr(address: string, cidr: string): boolean {
  const block = parseCidr(cidr);
  const ip = parseCidr(address);
  // Families never mix: BlockList would let an IPv4 address fall inside an IPv6 block such as ::/0.
  if (!block || !ip || ip.family !== block.family || ip.prefix !== (ip.family === 'ipv4' ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(block.address, block.prefix, block.family);
  return list.check(ip.address, ip.family);
}
