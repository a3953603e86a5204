import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConsoleClient, startConsoleStack, type ConsoleStack } from '../helpers/console';
import { waitFor } from '../helpers/kill-switch';

/**
 * The console's page of a gateway session lists the AWS calls the gateway answered for it, read from the
 * gateway's call records (the same ones GET /v1/sessions/{id}/calls answers).
 */
let s: ConsoleStack;
beforeAll(async () => {
  s = await startConsoleStack({ gateway: true });
});
afterAll(async () => s?.stop());

type GatewayVend = { sessionId: string; gateway: { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string } };

it("shows a gateway session's recent AWS calls, and none for a session of another delivery", async () => {
  const read = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };
  const vend = await s.stack.vend({ ...read, delivery: 'gateway' });
  expect(vend.status).toBe(200);
  const { sessionId, gateway: g } = vend.body as GatewayVend;
  const s3 = new S3Client({ endpoint: g.endpointUrl, region: g.region, credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey }, forcePathStyle: true, maxAttempts: 1 });
  const object = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' }));
  expect(await object.Body!.transformToString()).not.toHaveLength(0);
  s3.destroy();
  // Call records are written in batches after the answer: wait until the store has this one.
  await waitFor('the call record', () => s.stack.deps.gateway!.store.calls(sessionId, 10), (calls) => calls.length === 1);

  const plain = await s.stack.vend(read);
  expect(plain.status).toBe(200);

  const c = new ConsoleClient(s.url);
  expect((await c.signIn('ops@example.com', ['secops'])).status).toBe(200);
  const page = await (await c.fetch(`/console/sessions/${sessionId}`)).text();
  expect(page).toContain('<h2>Recent AWS calls</h2>');
  expect(page).toContain('<table id="calls">');
  expect(page).toContain('s3:GetObject');
  expect(page).not.toContain('No calls recorded.');

  const other = await (await c.fetch(`/console/sessions/${(plain.body as { sessionId: string }).sessionId}`)).text();
  expect(other).not.toContain('Recent AWS calls');
});
