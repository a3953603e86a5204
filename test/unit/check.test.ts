/** checkConfig: start-up validation without Redis or AWS, every problem of the config and templates listed. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { generateCa } from '../../src/gateway/proxy-ca';
import { checkConfig, formatCheckResult } from '../../src/check';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'sts-vend.example.yaml');
const TEMPLATES = path.join(ROOT, 'policies/templates');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-check-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const issuer = (name: string) => ({ name, issuer: `https://${name}.example.com`, audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'AI', claims: { developer: 'email' } });

function writeConfig(extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'sts-vend.yaml');
  writeFileSync(file, stringify({ aws: { region: 'us-east-1' }, issuers: [issuer('corp'), issuer('ci')], templatesDir: 'templates', ...extra }));
  return file;
}

it('accepts the example config and every shipped template', async () => {
  const r = await checkConfig({ configFile: EXAMPLE, env: {} });
  expect(r).toMatchObject({ ok: true, problems: [], configFile: EXAMPLE });
  expect(r.templates.sort()).toEqual(['ci-deploy', 'dynamodb-read-table', 'lambda-update-code', 'logs-read-group', 's3-read-prefix', 's3-write-prefix']);
  expect(formatCheckResult(r)).toMatch(/^ok: .*sts-vend\.example\.yaml and 6 template\(s\): /);
});

it('reads $STS_VEND_CONFIG and applies the environment overrides, as start does', async () => {
  const r = await checkConfig({ env: { STS_VEND_CONFIG: EXAMPLE, PORT: 'eighty' } });
  expect(r.ok).toBe(false);
  expect(r.problems).toEqual([`${EXAMPLE}: PORT: must be a port number, got "eighty"`]);
});

it('lists every config problem with the file and field, and does not load templates against a broken config', async () => {
  const file = writeConfig({ aws: { region: 'mars' }, colour: 'blue' });
  const r = await checkConfig({ configFile: file, env: {} });
  expect(r.ok).toBe(false);
  expect(r.templates).toEqual([]);
  expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/sts-vend\.yaml: \(root\): .*"colour"/), expect.stringMatching(/sts-vend\.yaml: aws\.region: /)]));
  expect(formatCheckResult(r)).toMatch(/^2 problem\(s\):\n {2}- /);
});

it('reports a config file it cannot read or parse', async () => {
  expect((await checkConfig({ configFile: path.join(dir, 'absent.yaml'), env: {} })).problems).toEqual([`${path.join(dir, 'absent.yaml')}: cannot read (ENOENT)`]);
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'server: [unclosed\n');
  expect((await checkConfig({ configFile: file, env: {} })).problems).toEqual([expect.stringMatching(/bad\.yaml: not valid YAML/)]);
});

it('lists the problems of every broken template, each naming its file and field', async () => {
  const templates = path.join(dir, 'templates');
  cpSync(TEMPLATES, templates, { recursive: true });
  writeFileSync(path.join(templates, 'wide.yaml'), stringify({
    name: 'wide',
    description: 'too wide',
    roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
    access: 'read',
    maxDurationSeconds: 900,
    allow: { issuers: ['nobody'] },
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:DeleteObject', 's3:NoSuchAction'], Resource: '*' }] },
  }));
  writeFileSync(path.join(templates, 'broken.yml'), 'name: [unclosed\n');
  const r = await checkConfig({ configFile: writeConfig(), env: {} });
  expect(r.ok).toBe(false);
  const inFile = (name: string) => r.problems.filter((p) => p.startsWith(path.join(templates, name)));
  expect(inFile('broken.yml')).toEqual([expect.stringMatching(/\(yaml\)/)]);
  expect(inFile('wide.yaml').join('\n')).toMatch(/allow\.issuers\[0\]: unknown issuer "nobody"/);
  expect(inFile('wide.yaml').join('\n')).toMatch(/s3:NoSuchAction/);
  expect(inFile('wide.yaml').join('\n')).toMatch(/s3:DeleteObject/);
  // The shipped templates beside them are fine: no problem names them.
  expect(r.problems.filter((p) => !/broken\.yml|wide\.yaml/.test(p))).toEqual([]);
});

it('reports an empty or missing templates directory', async () => {
  mkdirSync(path.join(dir, 'templates'));
  expect((await checkConfig({ configFile: writeConfig(), env: {} })).problems).toEqual([expect.stringMatching(/templates: no \*\.yaml or \*\.yml templates found/)]);
  expect((await checkConfig({ configFile: writeConfig({ templatesDir: 'nope' }), env: {} })).problems).toEqual([expect.stringMatching(/nope: cannot read the templates directory/)]);
});

it('checks server.tls files relative to the config, and still checks the templates', async () => {
  cpSync(TEMPLATES, path.join(dir, 'templates'), { recursive: true });
  const r = await checkConfig({ configFile: writeConfig({ server: { tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } } }), env: {} });
  expect(r.problems).toEqual([
    `${path.join(dir, 'sts-vend.yaml')}: server.tls.certFile: cannot read ${path.join(dir, 'tls/cert.pem')} (ENOENT)`,
    `${path.join(dir, 'sts-vend.yaml')}: server.tls.keyFile: cannot read ${path.join(dir, 'tls/key.pem')} (ENOENT)`,
  ]);
  expect(r.templates).toHaveLength(6);
});

it('checks proxy mode\'s CA pair: a key that is not the certificate\'s is a problem naming the field', async () => {
  cpSync(TEMPLATES, path.join(dir, 'templates'), { recursive: true });
  const one = await generateCa();
  const other = await generateCa();
  writeFileSync(path.join(dir, 'ca.pem'), one.certPem);
  writeFileSync(path.join(dir, 'ca.key'), other.keyPem);
  const gateway = { enabled: true, proxy: { enabled: true, caCertFile: 'ca.pem', caKeyFile: 'ca.key' } };
  const env = { STS_VEND_GATEWAY_KEY: 'k'.repeat(32) };
  const bad = await checkConfig({ configFile: writeConfig({ gateway }), env });
  expect(bad.problems).toEqual([`${path.join(dir, 'sts-vend.yaml')}: gateway.proxy.caKeyFile: not the private key of gateway.proxy.caCertFile (ERR_OSSL_X509_KEY_VALUES_MISMATCH)`]);
  writeFileSync(path.join(dir, 'ca.key'), one.keyPem);
  expect((await checkConfig({ configFile: writeConfig({ gateway }), env })).problems).toEqual([]);
});
