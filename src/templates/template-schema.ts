/**
 * The JSON Schema of a template file and the one Ajv instance that compiles it and every template's parameter
 * schema, compiled once, at start. Strict mode turns a misspelt keyword in a parameter schema
 * (`patern:`) into a load error instead of a silently unchecked parameter.
 */
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

/** allErrors: a template author and an API caller both see every problem at once. */
export const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);

/** Template names become the `template` session tag value and a Redis index key. */
export const TEMPLATE_NAME = '^[a-z0-9][a-z0-9-]{1,62}$';
// IAM role ARN: optional path, role name 1..64 of [\w+=,.@-].
const ROLE_ARN = '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$';
// Customer managed policy ARN; the account is compared with the role's by the linter.
const POLICY_ARN = '^arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,128}$';
// Projects become the `project` session tag and may be filled into a policy: a safe subset of the tag alphabet.
const PROJECT = '^[A-Za-z0-9_./+@-]{1,256}$';

// `service:Operation` with `*`/`?` allowed in the operation (src/gateway/rules.ts).
const GATEWAY_RULE = '^[a-z0-9-]{2,32}:[A-Za-z0-9*?]{1,128}$';

const names = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 256 } };

const templateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'roleArn', 'access', 'maxDurationSeconds', 'allow', 'parameters', 'policy'],
  properties: {
    name: { type: 'string', pattern: TEMPLATE_NAME },
    description: { type: 'string', minLength: 1, maxLength: 1024 },
    roleArn: { type: 'string', maxLength: 2048, pattern: ROLE_ARN },
    access: { type: 'string', enum: ['read', 'write'] },
    // docs/aws.md: DurationSeconds 900..43200.
    maxDurationSeconds: { type: 'integer', minimum: 900, maximum: 43200 },
    // How long a refreshable (container-delivered) session of this template may keep refreshing.
    maxSessionDurationSeconds: { type: 'integer', minimum: 900, maximum: 86400 },
    // The lifetime of such a session when the vend names none (default: sessions.defaultSessionDurationSeconds).
    defaultSessionDurationSeconds: { type: 'integer', minimum: 900, maximum: 86400 },
    allow: {
      type: 'object',
      additionalProperties: false,
      required: ['issuers'],
      properties: {
        issuers: names,
        groups: names,
        projects: { ...names, items: { type: 'string', pattern: PROJECT } },
        subjects: names,
        developers: names,
        claims: {
          type: 'object',
          minProperties: 1,
          additionalProperties: { anyOf: [{ type: 'string', minLength: 1 }, names] },
        },
      },
    },
    parameters: { type: 'object' },
    // The IAM grammar is checked by validatePolicy once placeholders are filled with sample values.
    policy: { type: 'object', required: ['Version', 'Statement'], properties: { Version: {}, Statement: {} } },
    // docs/aws.md: up to 10 managed session policy ARNs.
    policyArns: { type: 'array', maxItems: 10, uniqueItems: true, items: { type: 'string', pattern: POLICY_ARN } },
    allowWildcardActions: { type: 'boolean' },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        vendsPerMinute: { type: 'integer', minimum: 0 },
        liveSessionsPerDeveloper: { type: 'integer', minimum: 0 },
        gatewayCallsPerSecond: { type: 'integer', minimum: 0 },
      },
    },
    // Gateway delivery: operations refused (deny) or the only ones let through (allow), as service:Operation.
    gateway: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        deny: { ...names, items: { type: 'string', pattern: GATEWAY_RULE } },
        allow: { ...names, items: { type: 'string', pattern: GATEWAY_RULE } },
      },
    },
    // Human approval of each vend (src/approvals/): who approves, and how long a request waits.
    approval: {
      type: 'object',
      additionalProperties: false,
      required: ['required', 'approvers'],
      properties: {
        required: { type: 'boolean' },
        approvers: { type: 'object', additionalProperties: false, required: ['groups'], properties: { groups: names } },
        timeoutSeconds: { type: 'integer', minimum: 60, maximum: 86400 },
      },
    },
  },
};

export const validateTemplateFile = ajv.compile(templateSchema);

export interface FieldProblem {
  path: string;
  message: string;
}

/** Turns Ajv's `/allow/issuers/0` into `allow.issuers[0]` under `root` (empty root: top level). */
function fieldPath(root: string, instancePath: string): string {
  let out = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * Ajv errors as `{path, message}` with the field named the way a person writes it: a missing property and an
 * unexpected one are named themselves, not their parent object.
 */
export function ajvProblems(errors: ErrorObject[] | null | undefined, root: string): FieldProblem[] {
  return (errors ?? []).map((e) => {
    const base = fieldPath(root, e.instancePath);
    const join = (name: string): string => fieldPath(base, `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (e.keyword === 'required') return { path: join(String(e.params.missingProperty)), message: 'is required' };
    if (e.keyword === 'additionalProperties') return { path: join(String(e.params.additionalProperty)), message: 'is not an allowed field' };
    const allowed = e.keyword === 'enum' ? `: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}` : '';
    return { path: base || '(template)', message: `${e.message ?? 'is invalid'}${allowed}` };
  });
}
