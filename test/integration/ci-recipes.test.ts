import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createTokenVerifier } from '../../src/auth/verify-token';
import { loadConfig } from '../../src/config';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer';

const root = path.resolve(__dirname, '../..');
const example = loadConfig({ STS_VEND_CONFIG: path.join(root, 'sts-vend.example.yaml') });

/** The CI recipes in examples/ and the CI issuers of sts-vend.example.yaml, checked as far as this machine can. */
describe('CI recipes', () => {
  it('the GitHub workflow asks for an OIDC token for audience sts-vend and runs the deploy through sts-vend', () => {
    const wf = parse(readFileSync(path.join(root, 'examples/github-actions.yml'), 'utf8')) as {
      permissions: Record<string, string>;
      jobs: { deploy: { steps: Array<{ run?: string }> } };
    };
    expect(wf.permissions['id-token']).toBe('write');
    const script = wf.jobs.deploy.steps.map((s) => s.run ?? '').join('\n');
    expect(script).toContain('audience=sts-vend');
    expect(script).toContain('::add-mask::');
    expect(script).toMatch(/sts-vend exec --template ci-deploy/);
  });

  it('the GitLab job gets an id_token for audience sts-vend', () => {
    const ci = parse(readFileSync(path.join(root, 'examples/gitlab-ci.yml'), 'utf8')) as { deploy: { id_tokens: Record<string, { aud: string }>; script: string[] } };
    expect(ci.deploy.id_tokens.STS_VEND_TOKEN?.aud).toBe('sts-vend');
    expect(ci.deploy.script.join('\n')).toContain('sts-vend credentials --template ci-deploy');
  });

  describe.each(['ci', 'gitlab'])('the example %s issuer', (name) => {
    let idp: TestIssuer;
    const configured = example.issuers.find((i) => i.name === name)!;
    beforeAll(async () => {
      idp = await startTestIssuer({ name, algorithms: ['RS256'] });
    });
    afterAll(async () => idp?.stop());
    // The example's claim mapping and bound claims, pointed at a test IdP.
    const verifier = () => createTokenVerifier([{ ...configured, issuer: idp.issuer, jwksUri: undefined }]);
    const github = { sub: 'repo:acme/api:ref:refs/heads/main', actor: 'octocat', repository: 'acme/api', repository_owner: 'acme', run_id: '4242' };
    const gitlab = { sub: 'project_path:acme/api:ref_type:branch:ref:main', user_login: 'dev1', project_path: 'acme/api', namespace_path: 'acme', ref_protected: 'true', pipeline_id: '77' };
    const good = name === 'ci' ? github : gitlab;
    const bad =
      name === 'ci'
        ? [{ ...github, sub: 'repo:acme/api:pull_request' }, { ...github, repository_owner: 'evil', sub: 'repo:evil/api:ref:refs/heads/main' }]
        : [{ ...gitlab, ref_protected: 'false' }, { ...gitlab, namespace_path: 'evil' }];

    it('admits a protected branch as a CI identity', async () => {
      const identity = await verifier().verify(await idp.mint(good, { alg: 'RS256' }));
      expect(identity).toMatchObject({ issuer: name, accessType: 'CI', project: 'acme/api' });
      // Its own namespace, and its sessions belong to the run (pipeline) that vended them.
      expect(identity.developer).toBe(name === 'ci' ? 'ci:octocat' : 'gitlab:dev1');
      expect(identity.owner).toBe(JSON.stringify(name === 'ci' ? [good.sub, 'run_id=4242'] : [good.sub, 'pipeline_id=77']));
    });

    it('refuses a token without the owner claim the example asks for', async () => {
      const { run_id: _r, pipeline_id: _p, ...rest } = good as Record<string, unknown>;
      await expect(verifier().verify(await idp.mint(rest, { alg: 'RS256' }))).rejects.toMatchObject({ code: 'missing_claim' });
    });

    it('refuses pull requests, unprotected refs and other owners', async () => {
      for (const claims of bad) {
        await expect(verifier().verify(await idp.mint(claims, { alg: 'RS256' }))).rejects.toMatchObject({ code: 'bound_claim_mismatch' });
      }
    });
  });
});
