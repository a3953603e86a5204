/**
 * The template's gateway rules and the credential-minting guard. A rule is `service:Operation` or an IAM action
 * (`s3:DeleteObject`, `s3:ListBucket`), `*` and `?` allowed in the name; it matches a call when it matches the
 * call's operation or the IAM action the call needs, so `deny: [s3:DeleteObject]` also stops DeleteObjects.
 * Deny wins; with an allow list only listed calls pass. A call whose operation cannot be told is refused when
 * any rule exists. Minting calls are refused unless the allow list names them literally.
 */
import type { CallTarget } from './operations';

export interface GatewayRules {
  deny?: string[];
  allow?: string[];
}

/** Calls that turn gateway access into a credential the agent would hold: refused by default. */
export const MINTING_ACTIONS: ReadonlySet<string> = new Set([
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoot',
  'sts:GetSessionToken',
  'sts:GetFederationToken',
  'sts:GetWebIdentityToken',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:CreateServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
  'ecr:GetAuthorizationToken',
  's3express:CreateSession',
]);
/** Services that have a minting call: an unidentified call to them is refused whatever the rules. */
const MINTING_SERVICES = new Set([...MINTING_ACTIONS].map((a) => a.split(':')[0]));

export type RuleVerdict = { ok: true } | { ok: false; reason: 'denied' | 'not_allowed' | 'unidentified' | 'minting'; rule?: string };

const patterns = new Map<string, RegExp>();
function matcher(rule: string): RegExp {
  let re = patterns.get(rule);
  if (!re) {
    re = new RegExp(`^${rule.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    patterns.set(rule, re);
  }
  return re;
}

const matches = (rule: string, t: CallTarget): boolean => [t.operation, t.action].some((name) => name !== undefined && matcher(rule).test(name));

/** Whether the call may go on. `service` is the signing name (for the minting guard on unidentified calls). */
export function checkRules(rules: GatewayRules | undefined, service: string, t: CallTarget): RuleVerdict {
  const known = t.operation !== undefined;
  const hasRules = Boolean(rules?.deny?.length || rules?.allow);
  if (!known && (hasRules || MINTING_SERVICES.has(service))) return { ok: false, reason: 'unidentified' };
  if (known) {
    const denied = rules?.deny?.find((r) => matches(r, t));
    if (denied) return { ok: false, reason: 'denied', rule: denied };
    const minting = [t.operation, t.action].some((n) => n !== undefined && MINTING_ACTIONS.has(n));
    // Explicitly: a literal entry, not a glob that happens to cover it.
    if (minting && !rules?.allow?.some((r) => r === t.action || r === t.operation)) return { ok: false, reason: 'minting' };
    if (rules?.allow && !rules.allow.some((r) => matches(r, t))) return { ok: false, reason: 'not_allowed' };
  }
  return { ok: true };
}
