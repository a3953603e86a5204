import type { Identity } from '../../src/auth/identity';
import { ApiError } from '../../src/errors';
import { NO_PROJECT, allows, authorizeTemplate } from '../../src/templates/authorize';
import type { AllowRules, LoadedTemplate } from '../../src/templates/types';

// Only name and allow take part in authorization.
const tpl = (allow: AllowRules, name = 's3-read-prefix'): LoadedTemplate => ({ name, allow }) as LoadedTemplate;

const corpBackend: AllowRules = { issuers: ['corp'], groups: ['backend', 'data'], projects: ['backend-api', 'data-pipeline'] };
const corpAny: AllowRules = { issuers: ['corp'] };
const ciMain: AllowRules = { issuers: ['ci'], subjects: ['repo:acme/*:ref:refs/heads/main'] };
const examplePeople: AllowRules = { issuers: ['corp'], developers: ['*@example.com'] };
const prodClaims: AllowRules = { issuers: ['ci'], claims: { environment: 'prod', ref_protected: ['true'] } };

function who(over: Partial<Identity> = {}): Identity {
  return {
    issuer: 'corp',
    iss: 'https://idp.example.com',
    subject: 'alice@example.com',
    owner: 'alice@example.com',
    developer: 'alice@example.com',
    developerClaim: 'alice@example.com',
    namespace: '',
    groups: ['backend'],
    accessType: 'AI',
    claims: {},
    ...over,
  };
}
const ci = (over: Partial<Identity> = {}) =>
  who({ issuer: 'ci', subject: 'repo:acme/api:ref:refs/heads/main', developer: 'octocat', groups: [], accessType: 'CI', project: 'acme/api', ...over });

function outcome(allow: AllowRules, identity: Identity, requested?: string): string {
  try {
    return `project=${authorizeTemplate(tpl(allow), identity, requested).project}`;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return `${err.status} ${err.code}`;
  }
}

describe('authorizeTemplate: identity dimensions (default deny)', () => {
  it.each<[string, AllowRules, Identity, string]>([
    ['issuer and group match', corpBackend, who({ project: 'backend-api' }), 'project=backend-api'],
    ['any one group overlapping is enough', corpBackend, who({ groups: ['ops', 'data'], project: 'data-pipeline' }), 'project=data-pipeline'],
    ['other issuer', corpBackend, ci({ groups: ['backend'], project: 'backend-api' }), '403 template_forbidden'],
    ['no overlapping group', corpBackend, who({ groups: ['secops'], project: 'backend-api' }), '403 template_forbidden'],
    ['no groups at all', corpBackend, who({ groups: [], project: 'backend-api' }), '403 template_forbidden'],
    ['group names are exact (case)', corpBackend, who({ groups: ['Backend'], project: 'backend-api' }), '403 template_forbidden'],
    ['subject glob matches main', ciMain, ci(), 'project=acme/api'],
    ['subject glob refuses another branch', ciMain, ci({ subject: 'repo:acme/api:ref:refs/heads/dev' }), '403 template_forbidden'],
    ['subject glob refuses another org', ciMain, ci({ subject: 'repo:evil/api:ref:refs/heads/main' }), '403 template_forbidden'],
    ['subject glob refuses a pull request', ciMain, ci({ subject: 'repo:acme/api:pull_request' }), '403 template_forbidden'],
    ['developer glob matches', examplePeople, who(), `project=${NO_PROJECT}`],
    ['developer glob refuses a look-alike domain', examplePeople, who({ developer: 'mallory@example.com.evil' }), '403 template_forbidden'],
    ['claims match (boolean claim as text)', prodClaims, ci({ claims: { environment: 'prod', ref_protected: true } }), 'project=acme/api'],
    ['claims: one value of an array claim matches', prodClaims, ci({ claims: { environment: ['dev', 'prod'], ref_protected: 'true' } }), 'project=acme/api'],
    ['claims: a claim differs', prodClaims, ci({ claims: { environment: 'staging', ref_protected: 'true' } }), '403 template_forbidden'],
    ['claims: a claim is missing', prodClaims, ci({ claims: { environment: 'prod' } }), '403 template_forbidden'],
    ['only issuers listed: any identity of that issuer', corpAny, who({ groups: [] }), `project=${NO_PROJECT}`],
  ])('%s', (_name, allow, identity, expected) => {
    expect(outcome(allow, identity)).toBe(expected);
  });

  it('a refusal names only the template, never the failing rule', () => {
    try {
      authorizeTemplate(tpl(corpBackend), who({ groups: ['secops'] }));
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect([e.status, e.code, e.message, e.details]).toEqual([403, 'template_forbidden', 'not allowed to use template "s3-read-prefix"', undefined]);
    }
  });
});

describe('authorizeTemplate: project resolution', () => {
  it.each<[string, AllowRules, Identity, string | undefined, string]>([
    ['token project, none requested', corpBackend, who({ project: 'backend-api' }), undefined, 'project=backend-api'],
    ['token project, same requested', corpBackend, who({ project: 'backend-api' }), 'backend-api', 'project=backend-api'],
    ['token project, another requested', corpBackend, who({ project: 'backend-api' }), 'data-pipeline', '403 project_mismatch'],
    ['token project not allowed by the template', corpBackend, who({ project: 'payments' }), undefined, '403 template_forbidden'],
    ['token project, template without projects', corpAny, who({ project: 'payments' }), undefined, 'project=payments'],
    ['no token project, allowed project requested', corpBackend, who(), 'data-pipeline', 'project=data-pipeline'],
    ['no token project, other project requested', corpBackend, who(), 'payments', '403 project_not_allowed'],
    ['no token project, nothing requested, template lists projects', corpBackend, who(), undefined, '400 project_required'],
    ['no token project, template without projects', corpAny, who(), undefined, `project=${NO_PROJECT}`],
    ['no token project, template without projects, one requested', corpAny, who(), 'payments', '403 project_not_allowed'],
    ['identity refused before any project question', corpBackend, who({ groups: [] }), 'payments', '403 template_forbidden'],
  ])('%s', (_name, allow, identity, requested, expected) => {
    expect(outcome(allow, identity, requested)).toBe(expected);
  });

  it('project_required lists the projects to choose from', () => {
    expect(() => authorizeTemplate(tpl(corpBackend), who())).toThrow('pass one of: backend-api, data-pipeline');
  });
});

describe('allows (listing the templates a caller may use)', () => {
  it.each<[string, AllowRules, Identity, boolean]>([
    ['matching identity without a project', corpBackend, who(), true],
    ['matching identity with an allowed token project', corpBackend, who({ project: 'data-pipeline' }), true],
    ['matching identity with a token project the template does not list', corpBackend, who({ project: 'payments' }), false],
    ['other issuer', corpBackend, ci(), false],
    ['no overlapping group', corpBackend, who({ groups: ['secops'] }), false],
    ['subject glob', ciMain, ci(), true],
    ['subject glob refused', ciMain, ci({ subject: 'repo:acme/api:ref:refs/heads/dev' }), false],
  ])('%s', (_name, allow, identity, expected) => {
    expect(allows(tpl(allow), identity)).toBe(expected);
  });
});
