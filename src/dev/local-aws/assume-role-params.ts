/**
 * AssumeRole's parameters read from the Query request and checked against the constraints of the STS model
 * (docs/aws.md, "AssumeRole parameters"). Rules that need the role or the calling session are in
 * assume-role-rules.ts.
 */
import { Violations } from './constraints';
import type { QueryParams } from './query-params';

export interface AssumeRoleRequest {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  policy?: string;
  policyArns: string[];
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
  externalId?: string;
  sourceIdentity?: string;
}

// docs/aws.md: RoleSessionName and SourceIdentity chars [\w+=,.@-]*.
const NAME_PATTERN = '[\\w+=,.@-]*';
// docs/aws.md: ExternalId chars [\w+=,.@:\/-]*.
const EXTERNAL_ID_PATTERN = '[\\w+=,.@:\\/-]*';
// docs/aws.md: tag keys and values [\p{L}\p{Z}\p{N}_.:/=+\-@].
const TAG_PATTERN = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*';
// docs/aws.md: session policy chars \u0009 \u000A \u000D \u0020-\u00FF.
const POLICY_PATTERN = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';

/** Default when DurationSeconds is omitted. docs/aws.md: default 3600. */
export const DEFAULT_DURATION_SECONDS = 3600;

/** Reads the request; throws one ValidationError listing every modelled constraint it breaks. */
export function readAssumeRoleRequest(p: QueryParams): AssumeRoleRequest {
  const v = new Violations();
  const roleArn = p.get('RoleArn');
  const roleSessionName = p.get('RoleSessionName');
  if (roleArn === undefined) v.missing('roleArn');
  if (roleSessionName === undefined) v.missing('roleSessionName');
  v.length(roleArn, 'roleArn', 20, 2048); // docs/aws.md: RoleArn 20..2048 chars
  v.length(roleSessionName, 'roleSessionName', 2, 64); // docs/aws.md: RoleSessionName 2..64 chars
  v.pattern(roleSessionName, 'roleSessionName', NAME_PATTERN);

  const durationSeconds = p.integer('DurationSeconds', 'durationSeconds');
  v.range(durationSeconds, 'durationSeconds', 900, 43200); // docs/aws.md: DurationSeconds 900..43200

  const policy = p.get('Policy');
  // docs/aws.md: plaintext session policy <= 2048 chars (the ARNs of PolicyArns count too, checked later).
  v.length(policy, 'policy', 1, 2048);
  v.pattern(policy, 'policy', POLICY_PATTERN);

  const policyArns = p.structList('PolicyArns').map((d) => d['arn'] ?? '');
  v.count(policyArns, 'policyArns', 10); // docs/aws.md: up to 10 managed policy ARNs
  policyArns.forEach((arn, i) => v.length(arn, `policyArns.${i + 1}.member.arn`, 20, 2048));

  const tags = p.structList('Tags').map((t) => ({ key: t['Key'] ?? '', value: t['Value'] ?? '' }));
  v.count(tags, 'tags', 50); // docs/aws.md: Tags <= 50
  tags.forEach((t, i) => {
    v.length(t.key, `tags.${i + 1}.member.key`, 1, 128); // docs/aws.md: tag key 1..128
    v.pattern(t.key, `tags.${i + 1}.member.key`, TAG_PATTERN, 'u');
    v.length(t.value, `tags.${i + 1}.member.value`, 0, 256); // docs/aws.md: tag value 0..256
    v.pattern(t.value, `tags.${i + 1}.member.value`, TAG_PATTERN, 'u');
  });

  const transitiveTagKeys = p.list('TransitiveTagKeys');
  v.count(transitiveTagKeys, 'transitiveTagKeys', 50); // docs/aws.md: TransitiveTagKeys <= 50
  transitiveTagKeys.forEach((k, i) => {
    v.length(k, `transitiveTagKeys.${i + 1}.member`, 1, 128);
    v.pattern(k, `transitiveTagKeys.${i + 1}.member`, TAG_PATTERN, 'u');
  });

  const externalId = p.get('ExternalId');
  v.length(externalId, 'externalId', 2, 1224); // docs/aws.md: ExternalId 2..1224 chars
  v.pattern(externalId, 'externalId', EXTERNAL_ID_PATTERN);

  const sourceIdentity = p.get('SourceIdentity');
  v.length(sourceIdentity, 'sourceIdentity', 2, 64); // docs/aws.md: SourceIdentity 2..64 chars
  v.pattern(sourceIdentity, 'sourceIdentity', NAME_PATTERN);
  v.throwIfAny();

  return {
    roleArn: roleArn as string,
    roleSessionName: roleSessionName as string,
    durationSeconds: durationSeconds ?? DEFAULT_DURATION_SECONDS,
    policy,
    policyArns,
    tags,
    transitiveTagKeys,
    externalId,
    sourceIdentity,
  };
}
