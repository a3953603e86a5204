/**
 * Step 3 of a vend (README, "How a vend works"): caller parameters, checked against the template's schema, are filled into the
 * parsed policy document, which is then checked again as an IAM session policy and against the STS limits.
 */
import { ApiError } from '../errors';
import { minifyPolicy, validatePolicy, type PolicyDocument } from '../policy/document';
import { SESSION_POLICY_LIMIT } from './lint-template';
import { UNSAFE_VALUE_CHAR, fillPlaceholders, identityValueProblem } from './placeholders';
import { ajvProblems, type FieldProblem } from './template-schema';
import type { LoadedTemplate, RenderIdentity } from './types';

export interface RenderedPolicy {
  policy: PolicyDocument;
  /** Minified JSON, the text passed to AssumeRole as `Policy`. */
  json: string;
}

function invalidParameters(errors: FieldProblem[]): ApiError {
  const first = errors[0] ?? { path: 'parameters', message: 'are invalid' };
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ApiError(400, 'invalid_parameters', `${first.path}: ${first.message}${more}`, { details: { errors } });
}

/**
 * Renders the template's policy for one vend. Throws ApiError 400 `invalid_parameters` (details.errors lists
 * every `{path, message}`), 400 `invalid_identity` when the token's developer/project cannot appear in this
 * policy, and 500 `policy_invalid` / `policy_too_large` for a rendered policy the load-time lint should have
 * made impossible.
 */
export function renderPolicy(template: LoadedTemplate, parameters: unknown, identity: RenderIdentity): RenderedPolicy {
  if (!template.validateParameters(parameters)) {
    throw invalidParameters(ajvProblems(template.validateParameters.errors, 'parameters'));
  }
  const params = parameters as Record<string, unknown>;
  const unsafe: FieldProblem[] = [];

  const json = JSON.stringify(
    fillPlaceholders(template.policy, (name) => {
      if (name === 'identity.developer' || name === 'identity.project') {
        const field = name.slice('identity.'.length) as keyof RenderIdentity;
        const problem = identityValueProblem(identity[field]);
        if (problem) {
          throw new ApiError(400, 'invalid_identity', `the token's ${field} cannot be used in template "${template.name}": it ${problem}`);
        }
        return identity[field];
      }
      const value = Object.hasOwn(params, name) ? params[name] : undefined;
      if (typeof value !== 'string' && !Number.isInteger(value)) {
        // The linter makes every referenced parameter required and a string or integer; reaching here is a bug.
        throw new ApiError(500, 'policy_invalid', `parameter "${name}" of template "${template.name}" has no usable value`);
      }
      const text = String(value);
      // Defence in depth behind the lint's pattern probes: a pattern that lets a refused character through still
      // cannot put it into a policy.
      const path = `parameters.${name}`;
      if (UNSAFE_VALUE_CHAR.test(text) && !unsafe.some((u) => u.path === path)) {
        unsafe.push({ path, message: 'contains a character that cannot appear in a policy' });
      }
      return text;
    }),
  );
  if (unsafe.length > 0) throw invalidParameters(unsafe);

  const checked = validatePolicy(json, 'session');
  if (!checked.ok) {
    throw new ApiError(500, 'policy_invalid', `template "${template.name}" rendered an invalid policy: ${checked.errors.join('; ')}`);
  }
  const minified = minifyPolicy(checked.policy);
  if (minified.length > SESSION_POLICY_LIMIT) {
    throw new ApiError(500, 'policy_too_large', `template "${template.name}" rendered ${minified.length} chars, over the ${SESSION_POLICY_LIMIT}-char limit its worst case (${template.worstCasePolicyLength}) was checked against`);
  }
  return { policy: checked.policy, json: minified };
}
