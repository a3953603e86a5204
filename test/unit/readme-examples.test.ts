import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config';
import { loadTemplates } from '../../src/templates/load-templates';

/** The README's configuration and template references are examples users copy: they must load. */
const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README examples', () => {
  it('the configuration reference is a valid config', () => {
    const block = yamlBlocks.find((b) => b.startsWith('server:'));
    expect(block).toBeDefined();
    const config = parseConfig(parse(block!));
    expect(config.issuers.map((i) => i.name)).toEqual(['corp', 'github']);
    expect(config.killSwitch.marginSeconds).toBe(5);
  });

  it('the template reference loads and lints', async () => {
    const block = yamlBlocks.find((b) => b.startsWith('name: s3-read-prefix'));
    expect(block).toBeDefined();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-readme-'));
    writeFileSync(path.join(dir, 'example.yaml'), block!);
    const [template] = await loadTemplates(dir, { issuers: ['corp'], maxDurationSeconds: 3600 });
    expect(template?.name).toBe('s3-read-prefix');
  });
});
