/**
 * Everything checked about one template's content once its file matched the template schema: placeholders,
 * parameter schemas, IAM actions, managed policy ARNs, the IAM grammar of a sample render, and the worst-case
 * rendered size against the STS limit. Problems are `path.to.field: message`; the loader prefixes the file.
 */
import { minifyPolicy, validatePolicy } from '../policy/document';
import { lintActions } from './lint-actions';
import { lintGatewayRules } from './lint-gateway';
import { lintParameters } from './lint-parameters';
import { IDENTITY_PLACEHOLDERS, MAX_IDENTITY_LENGTH, fillPlaceholders, hasMalformedPlaceholder, placeholdersIn, walkStrings } from './placeholders';
import type { TemplateSpec } from './types';

/** docs/aws.md: inline + managed session policies together <= 2048 characters of plaintext. */
export const SESSION_POLICY_LIMIT = 2048;

/** Identity values for the sample render (any valid value serves: only the grammar is checked). */
const SAMPLE_IDENTITY: Record<string, string> = { 'identity.developer': 'developer@example.com', 'identity.project': 'example-project' };
const WORST_IDENTITY: Record<string, string> = Object.fromEntries(IDENTITY_PLACEHOLDERS.map((p) => [p, 'x'.repeat(MAX_IDENTITY_LENGTH)]));

export interface TemplateLint {
  problems: string[];
  /** Minified length of the policy with every parameter and identity value at its longest; 0 when not computable. */
  worstCasePolicyLength: number;
}

const isIdentity = (name: string): boolean => (IDENTITY_PLACEHOLDERS as readonly string[]).includes(name);

/** Grammar messages name their own place (`Statement[0].Action[0]: ...`); put them under `policy`. */
function grammarProblem(message: string): string {
  return /^(Statement|Version|Id)\b/.test(message) ? `policy.${message}` : `policy: ${message}`;
}

/** Managed session policies: same account as the role (docs/aws.md), and none on read templates (unverifiable). */
function lintPolicyArns(spec: TemplateSpec): string[] {
  const arns = spec.policyArns ?? [];
  const problems: string[] = [];
  if (spec.access === 'read' && arns.length > 0) {
    problems.push('policyArns: an access: read template cannot list managed policies (their actions cannot be checked at load)');
  }
  const account = spec.roleArn.split(':')[4];
  arns.forEach((arn, i) => {
    const owner = arn.split(':')[4];
    if (owner !== account) problems.push(`policyArns[${i}]: must be in the role's account ${account}, not ${owner}`);
  });
  return problems;
}

/** Lints one template (already valid against the template file schema). */
export async function lintTemplate(spec: TemplateSpec): Promise<TemplateLint> {
  const problems: string[] = [];
  const declared = spec.parameters.properties;
  const properties = typeof declared === 'object' && declared !== null ? declared : {};
  const referenced = new Set<string>();

  walkStrings(
    spec.policy,
    'policy',
    (text, path) => {
      if (hasMalformedPlaceholder(text)) problems.push(`${path}: malformed placeholder in ${JSON.stringify(text)} (write {{name}} or {{identity.developer}})`);
      for (const name of placeholdersIn(text)) {
        if (isIdentity(name)) continue;
        if (Object.hasOwn(properties, name)) referenced.add(name);
        else problems.push(`${path}: unknown placeholder {{${name}}} (not a parameter, identity.developer or identity.project)`);
      }
    },
    (key, path) => {
      if (key.includes('{{') || key.includes('}}')) problems.push(`${path}: placeholders are filled into values only, not keys`);
    },
  );

  const params = lintParameters(spec.parameters, referenced);
  problems.push(...params.problems);
  problems.push(...(await lintActions(spec.policy, { access: spec.access, allowWildcardActions: spec.allowWildcardActions === true })));
  problems.push(...lintPolicyArns(spec));
  problems.push(...(await lintGatewayRules(spec)));
  // A parameter whose lint failed still gets a stand-in, so grammar problems are listed in the same pass.
  const sample = fillPlaceholders(spec.policy, (name) => SAMPLE_IDENTITY[name] ?? params.samples.get(name) ?? 'x');
  const checked = validatePolicy(sample, 'session');
  if (!checked.ok) problems.push(...checked.errors.map(grammarProblem));
  // Without every parameter's bound there is no worst case to compute (that parameter's problem is reported).
  if (![...referenced].every((name) => params.worstCase.has(name))) return { problems, worstCasePolicyLength: 0 };

  const worst = fillPlaceholders(spec.policy, (name) => WORST_IDENTITY[name] ?? params.worstCase.get(name) ?? '');
  const worstCasePolicyLength = minifyPolicy(worst).length;
  // Conservative: counts the managed policy ARNs' own text against the same 2048-character budget.
  const arnChars = (spec.policyArns ?? []).reduce((n, arn) => n + arn.length, 0);
  if (worstCasePolicyLength + arnChars > SESSION_POLICY_LIMIT) {
    const arnNote = arnChars > 0 ? ` plus ${arnChars} chars of policyArns` : '';
    problems.push(
      `policy: worst-case rendered length ${worstCasePolicyLength} chars${arnNote} exceeds the ${SESSION_POLICY_LIMIT}-char session policy limit ` +
        `(every parameter at its maxLength, identity values at ${MAX_IDENTITY_LENGTH}); lower maxLength or shorten the policy`,
    );
  }
  return { problems, worstCasePolicyLength };
}
