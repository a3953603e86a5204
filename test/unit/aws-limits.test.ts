import { checkAssumeRoleInput, type AssumeRoleInput } from '../../src/vend/aws-limits';

const valid: AssumeRoleInput = {
  roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
  roleSessionName: 'alice-example.com.0123abcd',
  durationSeconds: 900,
  policy: '{"Version":"2012-10-17","Statement":[]}',
  policyArns: [],
  tags: { AccessType: 'AI', developer: 'alice@example.com', project: 'backend-api', 'agent-session': '0123abcd', template: 's3-read' },
  transitiveTagKeys: ['AccessType', 'developer'],
  sourceIdentity: 'alice@example.com',
};

describe('checkAssumeRoleInput (docs/aws.md, AssumeRole parameters)', () => {
  it('accepts a valid input, including values at the limits', () => {
    expect(checkAssumeRoleInput(valid, { roleChaining: false })).toEqual([]);
    const edges = { ...valid, roleSessionName: 'a'.repeat(64), sourceIdentity: 'ab', durationSeconds: 43200, policy: 'x'.repeat(2048) };
    expect(checkAssumeRoleInput(edges, { roleChaining: false })).toEqual([]);
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(256)]));
    expect(checkAssumeRoleInput({ ...valid, tags, transitiveTagKeys: [] }, { roleChaining: false })).toEqual([]);
  });

  it.each<[string, Partial<AssumeRoleInput>, string, boolean?]>([
    ['short role arn', { roleArn: 'arn:aws:iam::1:role' }, 'roleArn: length 19 outside 20..2048'],
    ['session name of 1 char', { roleSessionName: 'a' }, 'roleSessionName: length 1 outside 2..64'],
    ['session name of 65 chars', { roleSessionName: 'a'.repeat(65) }, 'roleSessionName: length 65 outside 2..64'],
    ['session name with a space', { roleSessionName: 'alice smith' }, 'roleSessionName: characters outside'],
    ['source identity with aws: prefix', { sourceIdentity: 'aws:alice' }, 'sourceIdentity: characters outside'],
    ['source identity of 65 chars', { sourceIdentity: 'a'.repeat(65) }, 'sourceIdentity: length 65 outside 2..64'],
    ['duration 899', { durationSeconds: 899 }, 'durationSeconds: 899 outside 900..43200'],
    ['duration 43201', { durationSeconds: 43201 }, 'durationSeconds: 43201 outside 900..43200'],
    ['duration over the chaining cap', { durationSeconds: 3601 }, 'durationSeconds: 3601 outside 900..3600', true],
    ['policy of 2049 chars', { policy: 'x'.repeat(2049) }, 'policy: 2049 chars, limit 2048'],
    ['policy with a char above U+00FF', { policy: '{"a":"\u0100"}' }, 'policy: session policy contains U+0100 at offset 6'],
    ['11 policy ARNs', { policyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::111122223333:policy/p${i}`) }, 'policyArns: 11, limit 10'],
    ['51 tags', { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), transitiveTagKeys: [] }, 'tags: 51, limit 50'],
    ['case-insensitive duplicate tag keys', { tags: { Project: 'a', project: 'b' }, transitiveTagKeys: [] }, 'tags.project: duplicate key'],
    ['aws: tag prefix', { tags: { 'aws:foo': 'a' }, transitiveTagKeys: [] }, 'tags.aws:foo: the aws: prefix is reserved'],
    ['tag key of 129 chars', { tags: { ['k'.repeat(129)]: 'v' }, transitiveTagKeys: [] }, 'invalid key'],
    ['tag value of 257 chars', { tags: { k: 'v'.repeat(257) }, transitiveTagKeys: [] }, 'tags.k: invalid value'],
    ['tag value with a quote', { tags: { k: 'a"b' }, transitiveTagKeys: [] }, 'tags.k: invalid value'],
    ['transitive key that is not a tag', { transitiveTagKeys: ['nope'] }, 'transitiveTagKeys: "nope" is not a session tag'],
  ])('refuses %s', (_name, change, expected, chaining = false) => {
    expect(checkAssumeRoleInput({ ...valid, ...change }, { roleChaining: chaining }).join('\n')).toContain(expected);
  });
});
