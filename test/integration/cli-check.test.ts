import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/program';
import type { CliContext } from '../../src/cli/context';

const root = path.resolve(__dirname, '../..');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ctx: CliContext = { out: (s) => (out += s), err: (s) => (err += s), env: {}, exitCode: 0 };
  const code = await run(args, ctx);
  return { code, out, err };
}

describe('sts-vend check', () => {
  it('passes the shipped example config and templates', async () => {
    const r = await cli(['check', '--config', path.join(root, 'sts-vend.example.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('s3-read-prefix');
  });

  it('lists every problem of a broken setup with its file and field, and exits 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-check-'));
    mkdirSync(path.join(dir, 'tpl'));
    copyFileSync(path.join(root, 'policies/templates/s3-read-prefix.yaml'), path.join(dir, 'tpl/good.yaml'));
    writeFileSync(path.join(dir, 'tpl/bad.yaml'), 'name: bad-one\ndescription: x\nroleArn: arn:aws:iam::111122223333:role/r\naccess: read\nmaxDurationSeconds: 900\nallow: {issuers: [corp]}\nparameters: {type: object, additionalProperties: false}\npolicy: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:PutObject", Resource: "*"}]}\n');
    writeFileSync(path.join(dir, 'config.yaml'), 'aws: {region: us-east-1}\nissuers:\n  - {name: corp, issuer: "https://idp", audiences: [sts-vend], algorithms: [RS256], accessType: AI, claims: {developer: email}}\ntemplatesDir: tpl\n');
    const r = await cli(['check', '--config', path.join(dir, 'config.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml/);
    expect(r.err).toMatch(/s3:PutObject/);
  });
});
