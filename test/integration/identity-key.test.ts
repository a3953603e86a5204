/**
 * The identity key end to end: what each kind of developer claim becomes in AWS (tags, SourceIdentity, the
 * revocation Deny), that revoking one person never reaches another, and that an operator can name a person by
 * the key CloudTrail shows or by issuer + raw claim. AWS here is the emulator: it evaluates the written Deny and
 * refuses a policy document with characters IAM does not accept, as IAM does.
 */
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import request from 'supertest';
import { expectContract } from '../helpers/contract';
import { AGENT_S3, call, fastKillSwitch, READ, revoke, s3Read, tokens, vendOk, waitFor, type Vended } from '../helpers/kill-switch';
import { iamClient } from '../helpers/local-aws';
import { startStack, type TestStack } from '../helpers/stack';

const HASHED = /=[A-Z2-7]{16}$/;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
const TAG_AND_POLICY = /^[A-Za-z0-9_.:/=+@\u00C0-\u00FF-]{1,256}$/;

function withStack(configure?: (raw: Record<string, unknown>) => void): () => TestStack {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      configure: (raw) => {
        fastKillSwitch(raw);
        configure?.(raw);
      },
    });
  });
  afterAll(async () => stack?.stop());
  return () => stack;
}

/** A corp token for this email claim (group backend, project backend-api: allowed s3-read-prefix). */
const as = (s: TestStack, email: string): Promise<string> => s.token({ email, sub: `sub-${Buffer.from(email).toString('base64url').slice(0, 40)}` });

async function sessionOf(s: TestStack, v: Vended): Promise<Record<string, unknown>> {
  const res = await call(s, 'get', `/v1/sessions/${v.sessionId}`);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

describe('what a developer claim becomes', () => {
  const stack = withStack();

  it.each<[string, string, RegExp | string]>([
    ['a plain email, as it is', 'alice@example.com', 'alice@example.com'],
    ['a Cyrillic name, hashed', 'иван@x.com', /^-@x\.com=[A-Z2-7]{16}$/],
    ['a 300-character CI claim, cut and hashed', `${'c'.repeat(288)}@example.com`, /^c{239}=[A-Z2-7]{16}$/],
    ['a name with "!", hashed apart from its sanitised look-alike', 'ann!x@example.com', /^ann-x@example\.com=[A-Z2-7]{16}$/],
  ])('%s', async (_name, claim, expected) => {
    const s = stack();
    const v = await vendOk(s, READ, await as(s, claim));
    const res = (v as unknown as { tags: Record<string, string>; sourceIdentity: string; roleSessionName: string });
    if (typeof expected === 'string') expect(res.tags.developer).toBe(expected);
    else expect(res.tags.developer).toMatch(expected);
    expect(res.tags.developer).toMatch(TAG_AND_POLICY);
    expect(res.sourceIdentity).toMatch(SOURCE_IDENTITY);
    expect(res.roleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    // The record shows the key and the raw claim side by side.
    const rec = await sessionOf(s, v);
    expect(rec).toMatchObject({ developer: res.tags.developer, developerClaim: claim });
    // The credentials work: AWS took the tags and the SourceIdentity.
    expect(await s3Read(s, v.credentials)).toBe('ok');
  });

  it('keeps issuers apart: a CI actor named like a corporate person is another developer', async () => {
    const s = stack();
    const ci = await s.ci.mint({ sub: 'repo:acme/app:ref:refs/heads/main', actor: 'alice@example.com', repository: 'acme/app' });
    const res = await s.vend({ template: 'ci-deploy', parameters: { artifactPrefix: 'app/', functionName: 'orders-api' } }, ci);
    expect(res.status).toBe(200);
    expect(res.body.tags.developer).toBe('ci:alice@example.com');
    expect(res.body.sourceIdentity).toBe('ci,alice@example.com');
  });
});

describe('revoking a developer names exactly that developer in AWS', () => {
  const stack = withStack();

  it('a Cyrillic developer: the Deny is written (IAM accepts it), denies them, spares alice', async () => {
    const s = stack();
    const ivan = await vendOk(s, READ, await as(s, 'иван@x.com'));
    const alice = await vendOk(s, READ, await as(s, 'alice@example.com'));
    const res = await revoke(s, { developer: { issuer: 'corp', claim: 'иван@x.com' }, reason: 'leaked' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body.selector).toEqual({ kind: 'developer', value: (await sessionOf(s, ivan)).developer });
    expect(res.body.roles.find((r: { roleArn: string }) => r.roleArn === AGENT_S3)).toEqual({ roleArn: AGENT_S3, state: 'applied' });
    await waitFor('the Deny to reach ivan', () => s3Read(s, ivan.credentials), (r) => r === 'AccessDenied');
    expect(await s3Read(s, alice.credentials)).toBe('ok');
  });
});

describe('look-alikes are different people', () => {
  const stack = withStack();

  it('revoking ann!x spares ann-x; revoking ann-x (the CloudTrail value) spares ann!x', async () => {
    const s = stack();
    const bang = await vendOk(s, READ, await as(s, 'ann!x@example.com'));
    const dash = await vendOk(s, READ, await as(s, 'ann-x@example.com'));
    const bangKey = String((await sessionOf(s, bang)).developer);
    expect(bangKey).not.toBe('ann-x@example.com');

    expect((await revoke(s, { developer: bangKey, reason: 'by the key the listing shows' })).status).toBe(200);
    await waitFor('the Deny to reach ann!x', () => s3Read(s, bang.credentials), (r) => r === 'AccessDenied');
    expect(await s3Read(s, dash.credentials)).toBe('ok');

    const dash2 = await vendOk(s, READ, await as(s, 'ann-x@example.com'));
    const bang2Token = await as(s, 'ann!x@example.com');
    expect((await revoke(s, { developer: 'ann-x@example.com', reason: 'the other one' })).status).toBe(200);
    await waitFor('the Deny to reach ann-x', () => s3Read(s, dash2.credentials), (r) => r === 'AccessDenied');
    // ann!x's earlier session is denied by her own revocation; a new one after it works.
    const settled = await waitFor('a vend of ann!x after the settle window', () => s.vend(READ, bang2Token), (r) => r.status === 200);
    expect(await s3Read(s, (settled.body as Vended).credentials)).toBe('ok');
  });

  it('a block on kim does not let fullwidth ｋim through as kim, nor block her', async () => {
    const s = stack();
    const res = await revoke(s, { developer: 'kim@example.com', reason: 'paused', block: { durationSeconds: 600 } });
    expect(res.status).toBe(200);
    expect((await s.vend(READ, await as(s, 'kim@example.com'))).body.error?.code).toBe('blocked');
    const other = await s.vend(READ, await as(s, 'ｋim@example.com'));
    expect(other.status).toBe(200);
    expect(other.body.tags.developer).toMatch(HASHED);
  });

  it('a 300-character claim is revocable by its key and by issuer + claim, which resolve alike', async () => {
    const s = stack();
    const claim = `${'d'.repeat(288)}@example.com`;
    const v = await vendOk(s, READ, await as(s, claim));
    const key = String((await sessionOf(s, v)).developer);
    const byClaim = await call(s, 'get', `/v1/sessions?issuer=corp&claim=${encodeURIComponent(claim)}`);
    const byKey = await call(s, 'get', `/v1/sessions?developer=${encodeURIComponent(key)}`);
    expect(byClaim.status).toBe(200);
    expect(byClaim.body.sessions.map((x: { id: string }) => x.id)).toEqual([v.sessionId]);
    expect(byKey.body.sessions.map((x: { id: string }) => x.id)).toEqual([v.sessionId]);
    const res = await revoke(s, { developer: key, reason: 'long claim' });
    expect(res.status).toBe(200);
    expect(res.body.sessionsRevoked).toBe(1);
    await waitFor('the Deny to reach the long-claim session', () => s3Read(s, v.credentials), (r) => r === 'AccessDenied');
  });

  it('refuses a developer that is not a key, and an unknown issuer, naming the field', async () => {
    const s = stack();
    const raw = await revoke(s, { developer: 'иван@x.com', reason: 'raw claim given as a key' });
    expect(raw.status).toBe(400);
    expect(raw.body.error).toMatchObject({ code: 'invalid_developer' });
    expect(raw.body.error.message).toMatch(/^body\.developer: /);
    const unknown = await revoke(s, { developer: { issuer: 'nobody', claim: 'a' }, reason: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^body\.developer\.issuer: /);
  });
});

describe('ending your own sessions never makes AWS deny anyone else (the budget attack)', () => {
  // A role whose other inline policies leave the revocation policy about 2,000 characters: self-service gets a
  // quarter, so a few dozen vend+end cycles do what about 666 do on a bare role.
  const stack = withStack();

  it('mallory ends 40 sessions: they fold into her own cut-off, alice keeps working, nothing is role-wide', async () => {
    const s = stack();
    const iam = iamClient(s.aws);
    const padding = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Padding', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'p'.repeat(7800)}` }] });
    await iam.send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'padding', PolicyDocument: padding }));
    iam.destroy();

    const alice = await vendOk(s, READ, await as(s, 'alice@example.com'));
    const malloryToken = await as(s, 'mallory@example.com');
    const ended: Vended[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 40; i++) {
      const v = await vendOk(s, READ, malloryToken);
      last = await request(s.app).delete(`/v1/sessions/${v.sessionId}`).set('Authorization', `Bearer ${malloryToken}`);
      expect(last.status).toBe(200);
      ended.push(v);
    }
    const role = last!.body.roles.find((r: { roleArn: string }) => r.roleArn === AGENT_S3);
    expect(role).toMatchObject({ state: 'applied', selfServiceFolded: expect.any(Number) });
    expect(role.compacted).toBeUndefined();
    expect(role.selfServiceDropped).toBeUndefined();

    for (const v of [ended[0]!, ended[20]!, ended[39]!]) {
      await waitFor('an ended session to be denied', () => s3Read(s, v.credentials), (r) => r === 'AccessDenied');
    }
    expect(await s3Read(s, alice.credentials)).toBe('ok');
    // A vend of alice's after all of it works too.
    expect(await s3Read(s, (await vendOk(s, READ, await as(s, 'alice@example.com'))).credentials)).toBe('ok');
  });
});

describe('only well-formed text gets in', () => {
  const stack = withStack();
  const raw = (s: TestStack, path: string, json: string, token: string) =>
    request(s.app).post(path).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(json);

  it('a lone surrogate in a parameter is 400 ill_formed_text, before anything is recorded', async () => {
    const s = stack();
    expect((await request(s.app).get('/readyz')).status).toBe(200);
    const before = await s.deps.redis.dbsize();
    const res = await raw(s, '/v1/vend', '{"template":"s3-read-prefix","parameters":{"bucket":"backend-data","prefix":"reports/\\ud800"}}', await tokens.alice(s));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'ill_formed_text', details: { field: 'body.parameters' } });
    expect(await s.deps.redis.dbsize()).toBe(before);
  });

  it('in a revocation reason: 400, nothing recorded, and an audit line of the refusal', async () => {
    const s = stack();
    const res = await raw(s, '/v1/revoke', '{"developer":"alice@example.com","reason":"\\udc00"}', await tokens.operator(s));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ill_formed_text');
    expect((await call(s, 'get', '/v1/revocations')).body.revocations).toEqual([]);
  });

  it('in a token claim: 401 ill_formed_claim', async () => {
    const s = stack();
    const res = await s.vend(READ, await s.token({ email: 'eve\ud800@example.com' }));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('ill_formed_claim');
  });

  it('a record an older version stored with a lone surrogate is still revoked, audited, and answered as done', async () => {
    const s = stack();
    const id = 'Poisoned0001';
    const now = Date.now();
    // What the service wrote before it refused ill-formed text: JSON.stringify escapes the surrogate as \ud800,
    // which Redis's cjson cannot read back.
    await s.deps.sessions.createPending({
      id, state: 'pending', issuer: 'corp', subject: 'sub-old', owner: 'sub-old', developer: 'olga@example.com', developerClaim: 'olga@example.com',
      project: 'backend-api', accessType: 'AI', template: 's3-read-prefix', roleArn: AGENT_S3, roleSessionName: `olga@example.com.${id.slice(0, 8)}`,
      sourceIdentity: 'olga@example.com', parameters: { bucket: 'backend-data', prefix: 'reports/\ud800' }, createdAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + 900_000).toISOString(),
    });
    expect(await s.deps.sessions.reserve({ developer: 'olga@example.com', sessionId: id, expiresAt: new Date(now + 900_000), vendsPerMinute: 0, liveSessions: 0 })).toEqual({ ok: true });

    const res = await revoke(s, { developer: 'olga@example.com', reason: 'old poisoned record' });
    expect(res.status).toBe(200);
    expect(res.body.sessionsRevoked).toBe(1);
    expect((await s.deps.sessions.get(id))?.state).toBe('revoked');
    expect(s.logs.find((l) => l.audit === true && l.event === 'revoke' && l.revocationId === res.body.revocationId)).toMatchObject({ outcome: 'applied' });
  });

  it('every revocation attempt leaves an audit line, refused ones too', async () => {
    const s = stack();
    await revoke(s, { developer: 'not a key!', reason: 'typo' });
    const line = s.logs.find((l) => l.audit === true && l.event === 'revoke' && l.outcome === 'refused');
    expect(line).toMatchObject({ code: 'invalid_developer', reason: 'typo', developer: 'ops@example.com' });
  });
});

describe('HTTP hygiene', () => {
  const stack = withStack((raw) => {
    const issuers = raw.issuers as Array<Record<string, unknown>>;
    issuers[1]!.claims = { developer: 'actor', project: 'repository', owner: ['run_id'] };
  });

  it('sends nosniff and the other API headers on every answer', async () => {
    const s = stack();
    for (const res of [await request(s.app).get('/healthz'), await request(s.app).get('/nope'), await s.vend(READ)]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuses two Authorization headers', async () => {
    const s = stack();
    const t = await tokens.alice(s);
    // superagent sends an array value as one header line per item (its types allow arrays only for Cookie).
    const twice = [`Bearer ${t}`, `Bearer ${t}`] as unknown as string;
    const res = await request(s.app).post('/v1/vend').set('Authorization', twice).send(READ);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('ambiguous_authorization');
  });

  it('refuses a token valid for longer than the issuer allows (24 h by default)', async () => {
    const s = stack();
    const long = await s.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 2 * 86400 });
    const res = await s.vend(READ, long);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('token_lifetime_too_long');
  });

  it('builds the container URL from the listener, never from Host or X-Forwarded-Host', async () => {
    const s = stack();
    const res = await request(s.app)
      .post('/v1/vend')
      .set('Authorization', `Bearer ${await tokens.alice(s)}`)
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .send({ ...READ, delivery: 'container' });
    expect(res.status).toBe(200);
    expect(res.body.container.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials\//);
  });

  it('a CI session belongs to its run: another job of the same repository and ref cannot read or end it', async () => {
    const s = stack();
    const job = (run: number): Promise<string> => s.ci.mint({ sub: 'repo:acme/app:ref:refs/heads/main', actor: 'octocat', repository: 'acme/app', run_id: run });
    const [a, b] = [await job(101), await job(102)];
    const res = await s.vend({ template: 'ci-deploy', parameters: { artifactPrefix: 'app/', functionName: 'orders-api' } }, a);
    expect(res.status).toBe(200);
    const id = res.body.sessionId as string;
    expect((await call(s, 'get', `/v1/sessions/${id}`, b)).status).toBe(404);
    expect((await call(s, 'delete', `/v1/sessions/${id}`, b)).status).toBe(404);
    expect((await call(s, 'get', `/v1/sessions/${id}`, a)).status).toBe(200);
    expect((await call(s, 'delete', `/v1/sessions/${id}`, a)).status).toBe(200);
  });
});
