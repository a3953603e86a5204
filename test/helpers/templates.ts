/** Fixtures of the template tests (test/unit/templates-*.test.ts): temp template directories and a valid base template. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { TemplateLoadError, loadTemplates } from '../../src/templates/load-templates';

export const EXAMPLES = path.join(__dirname, '../../policies/templates');
export const OPTS = { issuers: ['corp', 'ci'], maxDurationSeconds: 3600 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tpl = Record<string, any>;

const dirs: string[] = [];
/** Removes every directory templateDir made; call from afterAll. */
export const removeTemplateDirs = (): void => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));

/** Writes files (objects as YAML, strings verbatim) into a fresh directory. */
export function templateDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'templates-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), typeof content === 'string' ? content : stringify(content));
  return dir;
}

/** The problems loading these files reports (fails the test when they load). */
export async function templateProblemsOf(files: Record<string, unknown>, opts = OPTS): Promise<string[]> {
  const err = await loadTemplates(templateDir(files), opts).then(() => undefined, (e: unknown) => e);
  if (!(err instanceof TemplateLoadError)) throw new Error('expected the templates to fail to load');
  return err.problems;
}

/** A valid write template over S3; each case changes one thing. */
export function base(): Tpl {
  return {
    name: 'good',
    description: 'test template',
    roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
    access: 'write',
    maxDurationSeconds: 900,
    allow: { issuers: ['corp'] },
    parameters: {
      type: 'object',
      properties: {
        bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', maxLength: 63, examples: ['backend-data'] },
        prefix: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9/_.-]*/$', maxLength: 200, examples: ['reports/'] },
      },
      required: ['bucket', 'prefix'],
      additionalProperties: false,
    },
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::{{bucket}}/{{prefix}}*' }],
    },
  };
}

/** base() with one change applied. */
export function withChange(change: (t: Tpl) => void): Tpl {
  const t = base();
  change(t);
  return t;
}
