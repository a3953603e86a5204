/**
 * The IAM policy grammar checks behind `validatePolicy`. Each check appends readable problems naming the path,
 * so one run lists everything wrong instead of stopping at the first error as IAM's MalformedPolicyDocument does.
 */
import type { PolicyKind } from './document';
import { containsPolicyVariable, parseCidr, parseConditionOperator, parseIamDate, parseIamNumber } from './condition-operators';

const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const VERSIONS = ['2012-10-17', '2008-10-17'];
const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/;
// partition and service must be present; region and account may be empty (S3) and the resource part may hold ':'.
const RESOURCE_ARN = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;
const AWS_PRINCIPAL = /^(\*|\d{12}|arn:[^:]+:(iam|sts)::\d{12}:.+)$/;
const CONDITION_KEY = /^[A-Za-z0-9-]+:\S+$/;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Every grammar problem of `value` as a policy of `kind`; empty when it is a valid policy. */
export function checkDocument(value: unknown, kind: PolicyKind): string[] {
  const errors: string[] = [];
  if (!isObject(value)) return ['policy must be a JSON object'];
  checkJsonValues(value, 'policy', errors);
  for (const key of Object.keys(value)) if (!TOP_KEYS.has(key)) errors.push(`unknown top-level key "${key}"`);
  const version = value.Version;
  if (version === undefined) errors.push(`Version is required ("2012-10-17")`);
  else if (!VERSIONS.includes(version as string)) errors.push(`Version must be "2012-10-17" or "2008-10-17", not ${show(version)}`);
  if (value.Id !== undefined && typeof value.Id !== 'string') errors.push('Id must be a string');

  const statements = value.Statement;
  let list: Array<[unknown, string]> = [];
  if (statements === undefined) errors.push('Statement is required');
  else if (Array.isArray(statements)) {
    if (statements.length === 0) errors.push('Statement must not be an empty array');
    list = statements.map((s, i) => [s, `Statement[${i}]`]);
  } else if (isObject(statements)) list = [[statements, 'Statement']];
  else errors.push('Statement must be an object or an array of objects');

  const sids = new Set<string>();
  for (const [statement, path] of list) {
    checkStatement(statement, path, kind, errors);
    const sid = isObject(statement) ? statement.Sid : undefined;
    if (typeof sid === 'string') {
      if (sids.has(sid)) errors.push(`${path}.Sid: duplicate Sid "${sid}" (Sids must be unique)`);
      sids.add(sid);
    }
  }
  if (version !== '2012-10-17' && containsPolicyVariable(JSON.stringify(statements) ?? '')) {
    errors.push('Version must be "2012-10-17" when the policy uses ${...} variables (older versions treat them as text)');
  }
  return errors;
}

function checkStatement(s: unknown, path: string, kind: PolicyKind, errors: string[]): void {
  if (!isObject(s)) {
    errors.push(`${path} must be an object`);
    return;
  }
  for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) errors.push(`${path}: unknown key "${key}"`);
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9]+$/.test(s.Sid))) {
    errors.push(`${path}.Sid must be alphanumeric (A-Z, a-z, 0-9), not ${show(s.Sid)}`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    errors.push(s.Effect === undefined ? `${path}.Effect is required ("Allow" or "Deny")` : `${path}.Effect must be "Allow" or "Deny", not ${show(s.Effect)}`);
  }

  const actionKey = exactlyOne(s, path, 'Action', 'NotAction', errors);
  if (actionKey) {
    eachString(s[actionKey], `${path}.${actionKey}`, errors, (a, p) => {
      if (a !== '*' && !ACTION.test(a)) errors.push(`${p}: ${show(a)} must be "service:Action" (wildcards * and ? allowed) or "*"`);
    });
  }

  if (kind === 'trust') {
    for (const key of ['Resource', 'NotResource']) {
      if (s[key] !== undefined) errors.push(`${path}.${key} is not allowed in a trust policy (the role itself is the resource)`);
    }
    const principalKey = exactlyOne(s, path, 'Principal', 'NotPrincipal', errors);
    if (principalKey) checkPrincipal(s[principalKey], `${path}.${principalKey}`, errors);
  } else {
    for (const key of ['Principal', 'NotPrincipal']) {
      if (s[key] !== undefined) errors.push(`${path}.${key} is not allowed in ${kind === 'session' ? 'a session' : 'an identity'} policy`);
    }
    const resourceKey = exactlyOne(s, path, 'Resource', 'NotResource', errors);
    if (resourceKey) {
      eachString(s[resourceKey], `${path}.${resourceKey}`, errors, (r, p) => {
        if (r !== '*' && !RESOURCE_ARN.test(r)) errors.push(`${p}: ${show(r)} must be an ARN (arn:partition:service:region:account:resource) or "*"`);
      });
    }
  }
  if (s.Condition !== undefined) checkCondition(s.Condition, `${path}.Condition`, errors);
}

/** Reports unless exactly one of the two keys is present; returns the present key. */
function exactlyOne(s: Obj, path: string, a: string, b: string, errors: string[]): string | undefined {
  const hasA = s[a] !== undefined;
  const hasB = s[b] !== undefined;
  if (hasA && hasB) errors.push(`${path} must have exactly one of ${a} or ${b}, not both`);
  else if (!hasA && !hasB) errors.push(`${path} must have exactly one of ${a} or ${b}; neither is present`);
  else return hasA ? a : b;
  return undefined;
}

/** A string or a non-empty array of strings; `each` checks every string. */
function eachString(v: unknown, path: string, errors: string[], each: (s: string, p: string) => void): void {
  if (typeof v === 'string') return each(v, path);
  if (!Array.isArray(v) || v.length === 0) {
    errors.push(`${path} must be a string or a non-empty array of strings`);
    return;
  }
  v.forEach((item, i) => {
    if (typeof item === 'string') each(item, `${path}[${i}]`);
    else errors.push(`${path}[${i}] must be a string, not ${show(item)}`);
  });
}

function checkPrincipal(v: unknown, path: string, errors: string[]): void {
  if (v === '*') return;
  if (!isObject(v) || Object.keys(v).length === 0) {
    errors.push(`${path} must be "*" or an object with AWS, Service, Federated or CanonicalUser`);
    return;
  }
  for (const [type, ids] of Object.entries(v)) {
    if (!PRINCIPAL_TYPES.has(type)) {
      errors.push(`${path}: unknown principal type "${type}" (AWS, Service, Federated or CanonicalUser)`);
      continue;
    }
    eachString(ids, `${path}.${type}`, errors, (id, p) => {
      if (type === 'AWS' && !AWS_PRINCIPAL.test(id)) errors.push(`${p}: ${show(id)} must be "*", a 12-digit account id or an IAM/STS ARN`);
      else if (id.trim() === '') errors.push(`${p} must not be empty`);
    });
  }
}

function checkCondition(v: unknown, path: string, errors: string[]): void {
  if (!isObject(v)) {
    errors.push(`${path} must be an object of operator -> { key: value(s) }`);
    return;
  }
  for (const [name, block] of Object.entries(v)) {
    const op = parseConditionOperator(name);
    const opPath = `${path}.${name}`;
    if (!op) errors.push(`${path}: unknown condition operator "${name}"`);
    if (!isObject(block) || Object.keys(block).length === 0) {
      errors.push(`${opPath} must be a non-empty object of condition key -> value(s)`);
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const keyPath = `${opPath}["${key}"]`;
      if (!CONDITION_KEY.test(key)) errors.push(`${keyPath}: condition key must look like "service:Key"`);
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.length === 0) errors.push(`${keyPath} must not be an empty array`);
      values.forEach((value) => {
        if (!['string', 'number', 'boolean'].includes(typeof value)) {
          errors.push(`${keyPath}: condition values must be strings, numbers or booleans, not ${show(value)}`);
        } else if (op && !(typeof value === 'string' && containsPolicyVariable(value))) {
          const problem = valueProblem(op.base, value as string | number | boolean);
          if (problem) errors.push(`${keyPath}: ${show(value)} ${problem}`);
        }
      });
    }
  }
}

/** Format checks for the operators whose values are not free text. */
function valueProblem(base: string, value: string | number | boolean): string | undefined {
  if (base === 'Null' || base === 'Bool') {
    return /^(true|false)$/i.test(String(value)) ? undefined : `must be true or false for ${base}`;
  }
  if (base.startsWith('Numeric')) return parseIamNumber(value) === undefined ? 'is not a number' : undefined;
  if (base.startsWith('Date')) return parseIamDate(value) === undefined ? 'is not an ISO 8601 date or epoch seconds' : undefined;
  if (base.endsWith('IpAddress')) return parseCidr(value) === undefined ? 'is not an IP address or CIDR block' : undefined;
  return undefined;
}

/** Values a JSON document cannot hold (undefined, functions, NaN...) when the caller passed an object. */
function checkJsonValues(v: unknown, path: string, errors: string[]): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) errors.push(`${path} is not a JSON value (${v})`);
  } else if (Array.isArray(v)) v.forEach((item, i) => checkJsonValues(item, `${path}[${i}]`, errors));
  // Tag check rather than prototype identity: objects from structuredClone or another realm (jest, vm) are plain too.
  else if (isObject(v) && Object.prototype.toString.call(v) === '[object Object]' && !(v instanceof Date)) {
    for (const [k, item] of Object.entries(v)) checkJsonValues(item, `${path}.${k}`, errors);
  } else errors.push(`${path} is not a JSON value (${typeof v})`);
}
