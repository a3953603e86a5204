/**
 * Lint of a template's parameter schema. A parameter filled into a policy is the one place caller input reaches
 * an IAM document, so its schema must make injection impossible: bounded length, an anchored pattern (or an enum,
 * or a bounded integer) that admits none of the characters that would widen a grant (`*`, `?`), start a policy
 * variable (`${...}`), or leave the STS character set.
 */
import { UNSAFE_VALUE_CHAR, childPath } from './placeholders';

export interface ParameterLint {
  problems: string[];
  /** A valid value per referenced parameter (from `examples`, an enum, or the minimum) for the sample render. */
  samples: Map<string, string>;
  /** An upper bound of the rendered text per referenced parameter, for the worst-case size. */
  worstCase: Map<string, string>;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// One representative of every refused class; a pattern admitting any of them in any position is refused.
const PROBE_CHARS = ['*', '?', '$', '{', '}', '"', "'", '`', '\\', '\u0000', '\t', '\n', '\r', '\u001f', '\u007f', '\u0085',
  '\u0430', '\uff0a', '\u200b', '\u2028', '\u{1f600}'];
const PROBE_STRINGS = ['*', '?', 'a*', 'a?', '${x}', '${aws:username}', '{{x}}', '"', '\\'];

const show = (c: string): string =>
  /^[\u0021-\u007e]$/.test(c) ? JSON.stringify(c) : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * True when `^...$` anchors the whole pattern: it starts with `^`, ends with an unescaped `$`, and has no
 * top-level `|` (in `^a|b$` each anchor binds to one alternative only).
 */
export function isAnchored(source: string): boolean {
  if (!source.startsWith('^') || !source.endsWith('$')) return false;
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') {
      if (i === source.length - 2) return false; // the final `$` is escaped
      i += 1;
    } else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === '|' && depth === 0) return false;
  }
  return true;
}

/** The first refused character or probe the pattern admits, tried alone and inserted into / replacing each position of the samples. */
function admittedProbe(re: RegExp, samples: string[]): string | undefined {
  for (const probe of PROBE_STRINGS) if (re.test(probe)) return `${JSON.stringify(probe)}`;
  for (const sample of samples) {
    const chars = [...sample];
    for (let i = 0; i <= chars.length; i += 1) {
      for (const c of PROBE_CHARS) {
        const inserted = [...chars.slice(0, i), c, ...chars.slice(i)].join('');
        const replaced = i < chars.length ? [...chars.slice(0, i), c, ...chars.slice(i + 1)].join('') : undefined;
        if (re.test(inserted) || (replaced !== undefined && re.test(replaced))) return `${show(c)} (e.g. ${JSON.stringify(inserted)})`;
      }
    }
  }
  return undefined;
}

function lintString(p: Obj, path: string, problems: string[]): { sample?: string; worst?: string } {
  const { pattern, maxLength, minLength = 0, examples } = p;
  if (typeof pattern !== 'string') problems.push(`${path}.pattern: a string parameter used in the policy needs a pattern`);
  if (!Number.isInteger(maxLength) || (maxLength as number) < 1) problems.push(`${path}.maxLength: a string parameter used in the policy needs maxLength >= 1`);
  if (typeof pattern !== 'string') return {};
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u'); // Ajv compiles patterns with the u flag too
  } catch (err) {
    problems.push(`${path}.pattern: ${(err as Error).message}`);
    return {};
  }
  if (!isAnchored(pattern)) problems.push(`${path}.pattern: must be anchored as ^...$ (without a top-level |)`);
  if (re.test('') && !((minLength as number) >= 1)) {
    problems.push(`${path}.pattern: admits the empty string, which can widen a resource (set minLength: 1 or require a character)`);
  }
  const samples = Array.isArray(examples) ? examples : [];
  if (samples.length === 0) problems.push(`${path}.examples: list at least one valid value (used to check the rendered policy)`);
  samples.forEach((ex, i) => {
    const where = childPath(`${path}.examples`, i);
    const length = typeof ex === 'string' ? [...ex].length : -1;
    if (typeof ex !== 'string' || !re.test(ex) || length > (maxLength as number) || length < (minLength as number)) {
      problems.push(`${where}: ${JSON.stringify(ex)} does not satisfy the parameter's own schema`);
    } else if (UNSAFE_VALUE_CHAR.test(ex)) problems.push(`${where}: ${JSON.stringify(ex)} contains a character refused in policy values`);
  });
  const admitted = admittedProbe(re, samples.filter((s): s is string => typeof s === 'string'));
  if (admitted) {
    problems.push(`${path}.pattern: admits ${admitted}; values filled into a policy must not contain * ? $ { } quotes, backslash, control or non-Latin-1 characters`);
  }
  const first = samples[0];
  return {
    ...(typeof first === 'string' ? { sample: first } : {}),
    // Refused characters are never JSON-escaped, so maxLength characters render as at most maxLength characters.
    ...(Number.isInteger(maxLength) ? { worst: 'x'.repeat(maxLength as number) } : {}),
  };
}

function lintEnum(values: unknown[], path: string, problems: string[]): { sample?: string; worst?: string } {
  if (values.length === 0) problems.push(`${path}: must list at least one value`);
  const texts: string[] = [];
  values.forEach((v, i) => {
    if (typeof v === 'string' && v.length > 0 && !UNSAFE_VALUE_CHAR.test(v)) texts.push(v);
    else if (Number.isInteger(v)) texts.push(String(v));
    else problems.push(`${childPath(path, i)}: ${JSON.stringify(v)} must be a non-empty string without refused characters, or an integer`);
  });
  const worst = texts.reduce((a, b) => (b.length > a.length ? b : a), '');
  return { ...(texts[0] !== undefined ? { sample: texts[0] } : {}), worst };
}

function lintProperty(p: unknown, path: string, problems: string[]): { sample?: string; worst?: string } {
  if (!isObject(p)) {
    problems.push(`${path}: must be a schema object`);
    return {};
  }
  if (Array.isArray(p.enum)) return lintEnum(p.enum, `${path}.enum`, problems);
  if (Object.hasOwn(p, 'const')) return lintEnum([p.const], `${path}.const`, problems);
  if (p.type === 'string') return lintString(p, path, problems);
  if (p.type === 'integer') {
    const { minimum, maximum } = p;
    if (typeof minimum !== 'number' || typeof maximum !== 'number' || minimum > maximum) {
      problems.push(`${path}: an integer parameter used in the policy needs minimum <= maximum`);
      return {};
    }
    const low = String(Math.ceil(minimum));
    const high = String(Math.floor(maximum));
    return { sample: low, worst: high.length > low.length ? high : low };
  }
  problems.push(`${path}: a parameter used in the policy must be a string with pattern and maxLength, an enum, or an integer with minimum and maximum`);
  return {};
}

/**
 * Lints the parameter schema. `referenced` holds the parameter names the policy uses; only those need the strict
 * shapes (an unreferenced parameter, e.g. a ticket id kept for the audit log, never reaches the policy).
 */
export function lintParameters(schema: Obj, referenced: Set<string>): ParameterLint {
  const problems: string[] = [];
  const samples = new Map<string, string>();
  const worstCase = new Map<string, string>();
  if (schema.type !== 'object') problems.push('parameters.type: must be "object"');
  if (schema.additionalProperties !== false) problems.push('parameters.additionalProperties: must be false (unknown parameters are refused)');
  const properties = schema.properties === undefined ? {} : schema.properties;
  if (!isObject(properties)) {
    problems.push('parameters.properties: must be an object');
    return { problems, samples, worstCase };
  }
  const required = Array.isArray(schema.required) ? schema.required : [];
  for (const name of referenced) {
    if (!Object.hasOwn(properties, name)) continue; // reported where the policy uses it
    const path = childPath('parameters.properties', name);
    if (!required.includes(name)) problems.push(`parameters.required: must list "${name}" (the policy uses {{${name}}})`);
    const { sample, worst } = lintProperty(properties[name], path, problems);
    if (sample !== undefined) samples.set(name, sample);
    if (worst !== undefined) worstCase.set(name, worst);
  }
  return { problems, samples, worstCase };
}
