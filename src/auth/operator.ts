import type { Config } from '../config';
import type { Identity } from './identity';

/**
 * Operators are identities in one of `operators.groups`, further narrowed by `operators.issuers` and
 * `operators.subjects` when those are set. No groups configured means nobody is an operator.
 */
export function isOperator(identity: Identity, operators: Config['operators']): boolean {
  if (!identity.groups.some((g) => operators.groups.includes(g))) return false;
  if (operators.issuers && !operators.issuers.includes(identity.issuer)) return false;
  if (operators.subjects && !operators.subjects.includes(identity.subject)) return false;
  return true;
}
