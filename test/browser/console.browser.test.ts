/**
 * The console in a real browser: Debian's chromium driven by playwright-core (never a downloaded browser), one
 * launch for the file. Without chromium the file is skipped with a message, except in CI, where it must run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { startDepsReconciler } from '../../src/deps';
import type { Reconciler } from '../../src/revoke/reconciler';
import { startConsoleStack, type ConsoleStack } from '../helpers/console';
import { startStubServer } from '../helpers/test-issuer';
import { describeWhen } from '../helpers/skip';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/console');
const present = existsSync(CHROMIUM);
if (!present && process.env.CI) throw new Error(`${CHROMIUM} is missing; CI must run the browser tests (.ci/run installs chromium)`);
const suite = describeWhen(present, `${CHROMIUM} is not installed (apt-get install chromium)`);

jest.setTimeout(90_000);

let s: ConsoleStack;
let browser: Browser;
let reconciler: Reconciler;
beforeAll(async () => {
  if (!present) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  s = await startConsoleStack({
    configure: (raw) => {
      raw.killSwitch = { reconcileIntervalSeconds: 1 };
    },
  });
  // The kill switch's background half, as the service runs it: it retries roles whose Deny did not land.
  reconciler = startDepsReconciler(s.stack.deps);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright gives the browser a fresh temporary profile (--user-data-dir) of its own and removes it on close.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await reconciler?.stop();
  await s?.stop();
});

const alice = (claims: Record<string, unknown> = {}) => s.stack.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api', ...claims }, { expiresInSeconds: 3600 });
async function shot(page: Page, name: string): Promise<void> {
  if ((await page.locator('header').count()) > 0) await page.locator('header').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** A fresh browser context signed in through the dev issuer's form; answers the page after the callback. */
async function signIn(email: string, groups: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  const resp = await page.goto(`${s.url}/console`);
  expect(resp?.status()).toBe(401);
  await shot(page, 'sign-in');
  await page.click('#sign-in-corp');
  await page.waitForSelector('#email');
  await shot(page, 'dev-issuer-sign-in');
  await page.fill('#email', email);
  await page.fill('#groups', groups);
  await Promise.all([page.waitForURL((u) => u.pathname === '/console/callback'), page.click('#sign-in')]);
  // An operator's callback page moves on to /console by itself (meta refresh); a refusal stays.
  if (groups.split(',').includes('secops')) await page.waitForSelector('#sessions');
  return { context, page };
}

suite('the operator console in chromium', () => {
  it('signs an operator in, shows a live session, revokes its developer, shows the roles applied, and the next refresh is refused', async () => {
    // Through the listening service, so the container URL points at it.
    const vend = await request(s.url)
      .post('/v1/vend')
      .set('Authorization', `Bearer ${await alice()}`)
      .send({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, delivery: 'container' });
    expect(vend.status).toBe(200);
    const { sessionId, container } = vend.body as { sessionId: string; container: { url: string; authorizationToken: string } };
    // An agent whose claims carry markup: rendered as text, never run.
    const hostile = `"<img src=x onerror=document.title='xss'>"@example.com`;
    const evil = await request(s.stack.app).post('/v1/vend').set('Authorization', `Bearer ${await alice({ email: hostile })}`).send({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } });
    expect(evil.status).toBe(200);

    const { context, page } = await signIn('olivia@example.com', 'secops');
    await page.waitForSelector(`tr[data-session="${sessionId}"]`);
    // The Secure, HttpOnly, Strict cookie was accepted on this http://127.0.0.1 origin.
    const cookie = (await context.cookies()).find((c) => c.name === 'sv_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/console' });
    expect(await page.locator(`tr[data-session="${evil.body.sessionId}"]`).innerText()).toContain(hostile);
    expect(await page.locator('#sessions img').count()).toBe(0);
    expect(await page.title()).not.toBe('xss');
    // The countdown script runs (served by the service, allowed by the CSP): it replaces the ISO instant.
    await page.locator(`tr[data-session="${sessionId}"] .countdown`, { hasText: /^\d+m \d+s$/ }).waitFor();
    await shot(page, 'sessions');

    // Clickjacking: another origin framing the console gets nothing rendered (frame-ancestors 'none').
    const framer = await startStubServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><iframe id="f" src="${s.url}/console" width="800" height="400"></iframe>`);
    });
    try {
      const attacker = await context.newPage();
      await attacker.goto(framer.url);
      const frame = await (await attacker.waitForSelector('#f')).contentFrame();
      await attacker.waitForLoadState('load');
      expect(frame).not.toBeNull();
      expect(await frame!.locator('#sessions').count()).toBe(0);
      await attacker.close();
    } finally {
      await framer.stop();
    }

    await page.fill('input[name="developer"]', 'alice@example.com');
    await page.click('.filters button');
    await page.waitForSelector(`tr[data-session="${sessionId}"]`);
    expect(await page.locator('#sessions tbody tr').count()).toBe(1);
    expect(await page.locator('#totals-template').innerText()).toContain('s3-read-prefix');

    await page.click(`a[href="/console/sessions/${sessionId}"]`);
    await page.waitForSelector('#policy');
    expect(await page.locator('#policy').innerText()).toContain('arn:aws:s3:::backend-data/reports/*');
    expect(await page.locator('#session').innerText()).toContain('container');
    await shot(page, 'session');

    await page.goto(`${s.url}/console/revoke?kind=developer&value=alice%40example.com`);
    await page.fill('#reason', 'incident 42: leaked agent token');
    await page.fill('#block', '600');
    await shot(page, 'revoke-form');
    await page.click('#preview');
    await page.waitForSelector('#impact');
    expect(await page.locator('#impact-sessions').innerText()).toBe('1');
    await shot(page, 'revoke-confirm');
    // IAM fails at first: the revocation is in force in the service at once, its Deny lands once IAM is back.
    s.stack.aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
    await Promise.all([page.waitForURL(/\/console\/revocations\/r/), page.click('#confirm')]);
    expect(await page.locator('#overall').innerText()).toBe('pending');
    expect(await page.locator('[data-role="arn:aws:iam::111122223333:role/agent-s3"]').innerText()).toBe('pending');
    await shot(page, 'revocation-pending');
    s.stack.aws.aws.admin.clearFaults();
    // The page polls; the reconciler applies; the cells turn without a reload.
    // (Locators, not waitForFunction: the console's CSP forbids the eval that a string predicate needs.)
    await page.locator('#overall', { hasText: /^applied$/ }).waitFor({ timeout: 60_000 });
    const states = await page.locator('[data-role]').allInnerTexts();
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((x) => x === 'applied' || x === 'compacted')).toBe(true);
    await shot(page, 'revocation');

    // The agent's next refresh through its container URL is refused.
    const refresh = await fetch(container.url, { headers: { Authorization: container.authorizationToken } });
    expect(refresh.status).toBe(403);
    expect(((await refresh.json()) as { Code: string }).Code).toBe('SessionRevoked');

    // The block is listed and can be lifted from the page.
    await page.goto(`${s.url}/console/revocations`);
    await page.waitForSelector('#blocks tr');
    await shot(page, 'revocations');
    await Promise.all([page.waitForURL(/\/console\/revocations\/r/), page.click('#blocks button')]);
    // Lifted: the block shrinks from 600 s to the revocation's own cut-off (its margin, seconds at most).
    const revocationId = new URL(page.url()).pathname.split('/').pop()!;
    const lifted = (await s.stack.deps.killSwitch.getRevocation(revocationId))!;
    expect(Date.parse(lifted.blockedUntil!) - Date.parse(lifted.createdAt)).toBeLessThan(60_000);
    await context.close();
  });

  it('approves an agent\'s request in the page, and the agent collects the credentials', async () => {
    const ask = await request(s.stack.app)
      .post('/v1/vend')
      .set('Authorization', `Bearer ${await s.stack.corp.mint({ email: 'carol@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 3600 })}`)
      .send({ template: 's3-write-approved', parameters: { bucket: 'backend-data', prefix: 'exports/' }, reason: 'export <b>Q3</b> numbers' });
    expect(ask.status).toBe(202);
    const id = (ask.body as { approvalId: string }).approvalId;

    const { context, page } = await signIn('olivia@example.com', 'secops');
    await page.goto(`${s.url}/console/approvals`);
    await page.click(`a[href="/console/approvals/${id}"]`);
    await page.waitForSelector('#approval-policy');
    expect(await page.locator('#approval-reason').innerText()).toBe('export <b>Q3</b> numbers');
    expect(await page.locator('#approval-policy').innerText()).toContain('arn:aws:s3:::backend-data/exports/*');
    await page.fill('#decision-reason', 'export reviewed');
    await shot(page, 'approval');
    await Promise.all([page.waitForURL(`${s.url}/console/approvals/${id}`), page.click('#approve')]);
    expect(await page.locator('#approval-state').innerText()).toBe('approved');

    const got = await request(s.stack.app)
      .post(`/v1/approvals/${id}/collect`)
      .set('Authorization', `Bearer ${await s.stack.corp.mint({ email: 'carol@example.com', groups: ['backend'], project: 'backend-api' })}`);
    expect(got.status).toBe(200);
    const { accessKeyId, secretAccessKey, sessionToken } = got.body.credentials as { accessKeyId: string; secretAccessKey: string; sessionToken: string };
    const s3 = new S3Client({ endpoint: s.stack.aws.aws.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey, sessionToken } });
    await expect(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'exports/q3.csv', Body: 'a,b\n' }))).resolves.toBeDefined();
    s3.destroy();
    await page.goto(`${s.url}/console/approvals`);
    expect(await page.locator(`tr[data-approval="${id}"] td:nth-child(2)`).innerText()).toBe('collected');
    await shot(page, 'approvals');
    await context.close();
  });

  it('shows a non-operator a refusal and no console', async () => {
    const { context, page } = await signIn('mallory@example.com', 'backend');
    await page.waitForSelector('#refused');
    expect(await page.locator('#refused').innerText()).toContain('not an operator');
    expect((await context.cookies()).some((c) => c.name === 'sv_console')).toBe(false);
    await shot(page, 'refused');
    const again = await page.goto(`${s.url}/console`);
    expect(again?.status()).toBe(401);
    expect(await page.locator('#sessions').count()).toBe(0);
    await context.close();
  });
});
