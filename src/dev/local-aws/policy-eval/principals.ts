/** Principal / NotPrincipal matching for trust policies (a role's resource policy). */
import type { PrincipalBlock } from '../../../policy/document';
import { asArray } from '../../../policy/document';

/** Who is calling: the caller's ARN (or service / federated provider name) and its account. */
export interface Caller {
  principalArn: string;
  accountId: string;
}

/** True when the block names the caller (`*`, its account, its ARN, or the role behind its assumed-role session). */
export function principalMatches(block: PrincipalBlock | undefined, caller: Caller): boolean {
  if (block === undefined) return false;
  if (block === '*') return true;
  if (asArray(block.AWS).some((id) => awsPrincipalMatches(id, caller))) return true;
  // Service principals (`lambda.amazonaws.com`) and federated providers are named exactly.
  return [block.Service, block.Federated, block.CanonicalUser].some((ids) => asArray(ids).includes(caller.principalArn));
}

/**
 * One `AWS` principal id. An account id or `arn:aws:iam::ACCT:root` stands for every principal of that account
 * (IAM then relies on the caller's own policies); a role ARN also matches that role's assumed-role sessions, which is
 * how role chaining is granted.
 */
function awsPrincipalMatches(id: string, caller: Caller): boolean {
  if (id === '*') return true;
  if (/^\d{12}$/.test(id)) return id === caller.accountId;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(id);
  if (root) return root[1] === caller.accountId;
  if (id === caller.principalArn) return true;
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(id);
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(caller.principalArn);
  return Boolean(role && session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3]);
}
