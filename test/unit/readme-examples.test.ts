import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { createProgram } from '../../src/cli/program';
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

  it('the walkthrough vend answer has exactly the fields openapi.yaml promises', () => {
    const block = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('"sessionId"'));
    expect(block).toBeDefined();
    const shown = JSON.parse(block!) as Record<string, unknown>;
    const schema = (parse(readFileSync(path.resolve(__dirname, '../../openapi.yaml'), 'utf8')) as { components: { schemas: Record<string, { required: string[]; properties: Record<string, unknown> }> } }).components.schemas.VendResponse!;
    expect(Object.keys(shown).filter((k) => !(k in schema.properties))).toEqual([]);
    expect(schema.required.filter((k) => !(k in shown))).toEqual([]);
  });

  it('the credential_process profile and the exec line use options the CLI has, and no retired ones', () => {
    const profile = readme.split('\n').map((l) => l.trim()).find((l) => l.startsWith('credential_process = sts-vend credentials '));
    expect(profile).toBeDefined();
    expect(profile).not.toMatch(/--cache\b|--check\b/);
    const program = createProgram({ out: () => undefined, err: () => undefined, env: {}, exitCode: 0 });
    const known = (name: string) => new Set(program.commands.find((c) => c.name() === name)!.options.map((o) => o.long));
    for (const [line, command] of [[profile!, 'credentials'], [readme.split('\n').find((l) => l.trim().startsWith('sts-vend exec '))!, 'exec']] as const) {
      const flags = line.replace(/"[^"]*"/g, '""').split(' -- ')[0]!.match(/ --[a-z-]+/g)!.map((f) => f.trim());
      expect(flags.filter((f) => !known(command).has(f))).toEqual([]);
    }
  });

  it('every AWS CLI line of the emulator section names its endpoint (CLIs before 2.13 ignore AWS_ENDPOINT_URL)', () => {
    const section = readme.slice(readme.indexOf('## The local AWS emulator'), readme.indexOf('## Development'));
    const lines = section.split('\n').filter((l) => l.startsWith('aws '));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toContain('--endpoint-url');
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
