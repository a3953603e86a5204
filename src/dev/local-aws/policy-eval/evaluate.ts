/**
 * Allow / deny decisions the way AWS reaches them for one account: an explicit Deny in any policy wins; otherwise
 * the identity policies must allow, and when session policies were passed one of them must allow too (a session
 * policy only narrows the role).
 */
import type { PolicyDocument, Statement } from '../../../policy/document';
import { asArray, statementsOf } from '../../../policy/document';
import { conditionsHold } from './conditions';
import { Context, type Decision, type RequestContext } from './context';
import { actionMatches, arnMatch, toPattern } from './patterns';
import { principalMatches } from './principals';

export interface Request {
  action: string;
  resource: string;
  context: RequestContext;
}

type Outcome = 'Allow' | 'Deny' | 'None';

/** Identity-based evaluation: identity policies (the role's inline + attached) intersected with session policies when any were passed. */
export function evaluateRequest(req: Request, policies: { identity: PolicyDocument[]; session?: PolicyDocument[] }): Decision {
  const ctx = new Context(req.context);
  const matches = (doc: PolicyDocument, s: Statement) =>
    actionApplies(s, req.action) && resourceApplies(s, req.resource, ctx, variablesOn(doc)) && conditionsHold(s.Condition, ctx, variablesOn(doc));
  const identity = outcome(policies.identity, matches);
  const session = policies.session && policies.session.length > 0 ? outcome(policies.session, matches) : 'Allow';
  if (identity === 'Deny' || session === 'Deny') return 'ExplicitDeny';
  return identity === 'Allow' && session === 'Allow' ? 'Allow' : 'ImplicitDeny';
}

/** Trust policy (resource policy of a role) for sts:AssumeRole / sts:TagSession / sts:SetSourceIdentity: principal matching + conditions. */
export function evaluateTrust(
  trust: PolicyDocument,
  req: { principalArn: string; accountId: string; action: string; context: RequestContext },
): Decision {
  const ctx = new Context(req.context);
  const result = outcome([trust], (doc, s) => {
    const named = s.NotPrincipal !== undefined ? !principalMatches(s.NotPrincipal, req) : principalMatches(s.Principal, req);
    return named && actionApplies(s, req.action) && conditionsHold(s.Condition, ctx, variablesOn(doc));
  });
  return result === 'Allow' ? 'Allow' : result === 'Deny' ? 'ExplicitDeny' : 'ImplicitDeny';
}

/** Deny if any matching statement denies, Allow if one allows, None when no statement applies. */
function outcome(docs: PolicyDocument[], matches: (doc: PolicyDocument, s: Statement) => boolean): Outcome {
  let allowed = false;
  for (const doc of docs) {
    for (const s of statementsOf(doc)) {
      if (!matches(doc, s)) continue;
      if (s.Effect === 'Deny') return 'Deny';
      if (s.Effect === 'Allow') allowed = true;
    }
  }
  return allowed ? 'Allow' : 'None';
}

/** IAM substitutes `${...}` only in version 2012-10-17 documents. */
const variablesOn = (doc: PolicyDocument) => doc.Version === '2012-10-17';

function actionApplies(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !asArray(s.NotAction).some((p) => actionMatches(p, action));
  return asArray(s.Action).some((p) => actionMatches(p, action));
}

/** A Resource entry whose variable cannot be resolved matches nothing (so NotResource then does not exclude it). */
function resourceApplies(s: Statement, resource: string, ctx: Context, variables: boolean): boolean {
  const hits = (patterns: string | string[] | undefined) =>
    asArray(patterns).some((p) => {
      if (p === '*') return true;
      const parts = toPattern(p, ctx, variables);
      return parts !== undefined && arnMatch(parts, resource);
    });
  if (s.NotResource !== undefined) return !hits(s.NotResource);
  return hits(s.Resource);
}
