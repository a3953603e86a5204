/**
 * A target role's trust policy: only the service's principal may assume it, and only as the service does it
 * (src/vend/session-credentials.ts): with exactly the five session tags, the AccessType of an issuer that one of
 * the role's templates allows, the name of one of those templates, and a source identity.
 *
 * Layout: one statement per action. AssumeRole with Tags and a SourceIdentity is authorised against the trust
 * policy three times (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity); a request without tags or without a
 * source identity skips the second or third check, so only the sts:AssumeRole statement can *require* them: it
 * carries every condition. Each statement uses only the keys AWS documents for its own action (Service
 * Authorization Reference: AssumeRole has aws:RequestTag/*, aws:TagKeys and sts:SourceIdentity; TagSession has the
 * tag keys but not sts:SourceIdentity; SetSourceIdentity has sts:SourceIdentity only), because a condition on a key
 * absent from an evaluation fails that statement. The TagSession statement repeats the tag conditions so that no
 * other statement granting sts:AssumeRole could let other tags through.
 */
import type { ConditionBlock, PolicyDocument } from '../policy/document';
import { TAG_KEYS } from '../vend/session-credentials';

export interface TrustInput {
  principalArn: string;
  /** AccessType values of the issuers the role's templates allow. */
  accessTypes: string[];
  /** Names of the templates that use the role. */
  templateNames: string[];
}

const oneOrMany = (values: string[]): string | string[] => {
  const unique = [...new Set(values)].sort();
  return unique.length === 1 ? (unique[0] as string) : unique;
};

/** The conditions on the session tags, for sts:AssumeRole and sts:TagSession. */
function tagConditions(input: TrustInput): ConditionBlock {
  return {
    StringEquals: {
      'aws:RequestTag/AccessType': oneOrMany(input.accessTypes),
      'aws:RequestTag/template': oneOrMany(input.templateNames),
    },
    // "?*": present and not empty (a missing key fails StringLike). AccessType is already pinned above.
    StringLike: Object.fromEntries(TAG_KEYS.filter((k) => k !== 'AccessType').map((k) => [`aws:RequestTag/${k}`, '?*'])),
    // No tag beyond the five: a caller cannot add one that a policy elsewhere might trust.
    'ForAllValues:StringEquals': { 'aws:TagKeys': [...TAG_KEYS] },
  };
}

/** The trust policy of one target role. */
export function trustPolicy(input: TrustInput): PolicyDocument {
  const Principal = { AWS: input.principalArn };
  const sourceIdentity = { Null: { 'sts:SourceIdentity': 'false' } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AssumeOnlyWithSessionTagsAndSourceIdentity',
        Effect: 'Allow',
        Principal,
        Action: 'sts:AssumeRole',
        Condition: { ...tagConditions(input), ...sourceIdentity },
      },
      { Sid: 'TagOnlyWithTheSessionTags', Effect: 'Allow', Principal, Action: 'sts:TagSession', Condition: tagConditions(input) },
      { Sid: 'SetSourceIdentity', Effect: 'Allow', Principal, Action: 'sts:SetSourceIdentity', Condition: sourceIdentity },
    ],
  };
}
