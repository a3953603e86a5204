import { execFileSync } from 'node:child_process';
import { formatCredentials, formatEnv, formatProcess, shellQuote } from '../../src/cli/credential-format';
import { formatRevocation, formatSessionTable } from '../../src/cli/operator-format';
import type { Session, VendResponse } from '../../src/client/types';

const creds = {
  accessKeyId: 'ASIAEXAMPLE0001',
  secretAccessKey: "s3cr/t+k'ey with space",
  sessionToken: 'IQoJb3JpZ2luX2VjE$(touch /tmp/pwned)`id`"x"\\n',
  expiration: '2026-11-24T10:15:00.000Z',
};
const response = { sessionId: 'AbCdEfGh1234', template: 's3-read-prefix', credentials: creds } as VendResponse;

describe('credential formats', () => {
  it('process is the credential_process JSON, Version 1, one line', () => {
    const out = formatProcess(creds);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual({
      Version: 1,
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken,
      Expiration: creds.expiration,
    });
  });

  it('env is export lines a POSIX shell reads back byte for byte, running nothing', () => {
    const out = formatEnv(creds);
    expect(out.split('\n').filter(Boolean).map((l) => l.split('=')[0])).toEqual([
      'export AWS_ACCESS_KEY_ID',
      'export AWS_SECRET_ACCESS_KEY',
      'export AWS_SESSION_TOKEN',
      'export AWS_CREDENTIAL_EXPIRATION',
    ]);
    const script = `${out}printf '%s\\n%s\\n%s\\n%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION"`;
    const echoed = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(echoed.split('\n')).toEqual([creds.accessKeyId, creds.secretAccessKey, creds.sessionToken, creds.expiration]);
  });

  it('json is the service answer as sent', () => {
    expect(JSON.parse(formatCredentials('json', response))).toEqual(response);
    expect(formatCredentials('process', response)).toBe(formatProcess(creds));
    expect(formatCredentials('env', response)).toBe(formatEnv(creds));
  });

  it.each([
    ['ASIAEXAMPLE', 'ASIAEXAMPLE'],
    ['a/b+c=d:e,f.g@h%i-j_k', 'a/b+c=d:e,f.g@h%i-j_k'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['a\nb', "'a\nb'"],
  ])('shellQuote(%j) = %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
    expect(execFileSync('sh', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' })).toBe(value);
  });
});

describe('operator output', () => {
  const session = (id: string, developer: string): Session => ({
    id,
    state: 'live',
    issuer: 'corp',
    subject: developer,
    owner: developer,
    parameters: {},
    developer,
    developerClaim: developer,
    project: 'backend-api',
    accessType: 'AI',
    template: 's3-read-prefix',
    roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
    roleSessionName: `${developer}.x`,
    sourceIdentity: developer,
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:15:00.000Z',
  });

  it('lists sessions as an aligned table, control characters neutralised', () => {
    const out = formatSessionTable([session('AAAAAAAAAAAA', 'alice@example.com'), session('BBBBBBBBBBBB', 'bob\u001b[2J@example.com')]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +DEVELOPER +PROJECT +TEMPLATE +ACCESS +EXPIRES$/);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('bob?[2J@example.com');
    expect(out).not.toContain('\u001b');
    // Columns line up: EXPIRES starts at the same offset on every row.
    const at = lines[0]!.indexOf('EXPIRES');
    expect(lines[1]!.slice(at)).toBe('2026-01-01T00:15:00.000Z');
  });

  it('an empty list is just the header', () => {
    expect(formatSessionTable([]).trim().split('\n')).toHaveLength(1);
  });

  it('a revocation names its scope, each role state, and says when AWS is pending', () => {
    const revocation = {
      revocationId: 'rAAAAAAAAAAAA',
      selector: { kind: 'developer' as const, value: 'alice@example.com' },
      reason: 'test',
      operator: 'ops@example.com',
      createdAt: '2026-01-01T00:00:00.000Z',
      sessionsRevoked: 2,
      roles: [
        { roleArn: 'arn:aws:iam::111122223333:role/agent-s3', state: 'applied' as const },
        { roleArn: 'arn:aws:iam::111122223333:role/agent-logs', state: 'pending' as const, error: 'throttled' },
      ],
      note: 'IAM changes take seconds to minutes to propagate.',
    };
    const text = formatRevocation({ revocation, pending: true });
    expect(text).toContain('revocation rAAAAAAAAAAAA: developer alice@example.com, 2 session(s) revoked');
    expect(text).toContain('role/agent-s3: applied');
    expect(text).toContain('role/agent-logs: pending (throttled)');
    expect(text).toContain('pending for some role');
    expect(formatRevocation({ revocation: { ...revocation, roles: [revocation.roles[0]!] }, pending: false })).not.toContain('pending');
    expect(JSON.parse(formatRevocation({ revocation, pending: true }, true))).toEqual({ ...revocation, pending: true });
  });
});
