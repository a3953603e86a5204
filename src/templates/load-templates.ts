/**
 * Loads every task template of a directory at start. A wrong template is a wrong setup, not a wrong request
 * (a wrong setup is not a wrong request): every problem in every file is collected, each as `file: path.to.field: message`, and the
 * service refuses to start with all of them listed at once.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { lintTemplate } from './lint-template';
import { ajv, ajvProblems, validateTemplateFile } from './template-schema';
import type { LoadedTemplate, TemplateSpec } from './types';

/** Thrown once, after every file was read, when any template has a problem. */
export class TemplateLoadError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid task templates (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
    this.name = 'TemplateLoadError';
    this.problems = problems;
  }
}

export interface LoadTemplatesOptions {
  /** Names of the configured issuers; `allow.issuers` may reference only these. */
  issuers: string[];
  /** sessions.maxDurationSeconds: a template promising longer would be silently capped, so it is refused. */
  maxDurationSeconds: number;
}

/** Reads, validates and lints one file; returns the template when it had no problem of its own. */
async function loadOne(
  file: string,
  opts: LoadTemplatesOptions,
  problems: string[],
  fileOfName: Map<string, string>,
): Promise<LoadedTemplate | undefined> {
  const report = (p: string): void => void problems.push(`${file}: ${p}`);
  let value: unknown;
  try {
    const doc = parseDocument(await readFile(file, 'utf8'));
    if (doc.errors.length > 0) {
      // yaml's messages carry a source excerpt after the first line; the first line names line and column.
      for (const e of doc.errors) report(`(yaml): ${e.message.split('\n')[0]}`);
      return undefined;
    }
    value = doc.toJS(); // throws on alias bombs (yaml's maxAliasCount)
  } catch (err) {
    report(`(yaml): ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (!validateTemplateFile(value)) {
    for (const p of ajvProblems(validateTemplateFile.errors, '')) report(`${p.path}: ${p.message}`);
    return undefined;
  }
  const spec = value as unknown as TemplateSpec;
  const before = problems.length;
  const other = fileOfName.get(spec.name);
  if (other) report(`name: duplicate template name "${spec.name}" (also in ${other})`);
  else fileOfName.set(spec.name, file);
  spec.allow.issuers.forEach((issuer, i) => {
    if (!opts.issuers.includes(issuer)) report(`allow.issuers[${i}]: unknown issuer "${issuer}" (configured: ${opts.issuers.join(', ') || 'none'})`);
  });
  if (spec.maxDurationSeconds > opts.maxDurationSeconds) {
    report(`maxDurationSeconds: ${spec.maxDurationSeconds} exceeds sessions.maxDurationSeconds (${opts.maxDurationSeconds})`);
  }
  let validateParameters: ValidateFunction | undefined;
  if (Object.hasOwn(spec.parameters, '$id')) {
    // The shared Ajv would keep the id registered, so loading the directory a second time in one process would fail.
    report('parameters.$id: not supported; a template\'s parameter schema is identified by the template name');
  } else {
    try {
      validateParameters = ajv.compile(spec.parameters);
    } catch (err) {
      report(`parameters: ${(err as Error).message}`);
    }
  }
  const lint = await lintTemplate(spec);
  lint.problems.forEach(report);
  if (problems.length > before || !validateParameters) return undefined;
  return { ...spec, policyArns: spec.policyArns ?? [], file, validateParameters, worstCasePolicyLength: lint.worstCasePolicyLength };
}

/**
 * Loads every `*.yaml` / `*.yml` file of `dir` (async: the IAM action data is read on demand). Throws
 * TemplateLoadError listing every problem of every file, duplicate names included; an empty directory is a
 * problem too, since a service without templates can vend nothing.
 */
export async function loadTemplates(dir: string, opts: LoadTemplatesOptions): Promise<LoadedTemplate[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    throw new TemplateLoadError([`${dir}: cannot read the templates directory (${(err as Error).message})`]);
  }
  if (entries.length === 0) throw new TemplateLoadError([`${dir}: no *.yaml or *.yml templates found`]);

  const problems: string[] = [];
  const templates: LoadedTemplate[] = [];
  const fileOfName = new Map<string, string>();
  for (const entry of entries) {
    const template = await loadOne(path.join(dir, entry), opts, problems, fileOfName);
    if (template) templates.push(template);
  }
  if (problems.length > 0) throw new TemplateLoadError(problems);
  return templates;
}
