/**
 * Hostile input, rendering (issue 7, reliability suite): for every shipped template, no parameter value (any
 * string, unicode edge case, wildcard, policy variable, placeholder, control character, very long value, wrong
 * type, extra key) can widen the rendered policy. renderPolicy either refuses with a 400 or renders exactly the
 * template's document with each `{{param}}` replaced by that parameter's own value, and that value carries no
 * `*`, `?` or `${` into the policy.
 */
import fc from 'fast-check';
import path from 'node:path';
import { ApiError } from '../../src/errors';
import { statementsOf, type PolicyDocument, type Statement } from '../../src/policy/document';
import { loadTemplates } from '../../src/templates/load-templates';
import { renderPolicy } from '../../src/templates/render-policy';
import type { LoadedTemplate, RenderIdentity } from '../../src/templates/types';
import { propertyParams } from '../helpers/property';

const TEMPLATES = path.resolve(__dirname, '../../policies/templates');
const OPTS = { issuers: ['corp', 'ci'], maxDurationSeconds: 3600 };
const ALICE: RenderIdentity = { developer: 'alice@example.com', project: 'backend-api' };
const NUM_RUNS = 300;

let templates: LoadedTemplate[] = [];
beforeAll(async () => {
  templates = await loadTemplates(TEMPLATES, OPTS);
});

// The shipped template names, listed statically so each gets its own test; a test below checks the list is complete.
const SHIPPED = ['ci-deploy', 'dynamodb-read-table', 'lambda-update-code', 'logs-read-group', 's3-read-prefix', 's3-write-prefix'];

const template = (name: string): LoadedTemplate => {
  const t = templates.find((x) => x.name === name);
  if (!t) throw new Error(`no shipped template ${name}`);
  return t;
};

interface ParamSchema {
  type?: string;
  maxLength?: number;
  examples?: unknown[];
}
const paramSchemas = (t: LoadedTemplate): Record<string, ParamSchema> =>
  ((t.parameters as { properties?: Record<string, ParamSchema> }).properties ?? {});

/** Fragments an attacker would try: wildcards, IAM and template variables, traversal, quotes, controls, look-alikes. */
const HOSTILE = [
  '*', '?', '${', '${aws:username}', '${*}', '$', '{{', '}}', '{{bucket}}', '{{prefix}}', '{{identity.developer}}', '{', '}',
  '..', '../', '/', '//', '/index/*', ':*', ':', '#', '"', "'", '`', '\\', '","Action":"*","x":"', '"}],"Statement":[{"Effect":"Allow',
  '\u0000', '\n', '\r', '\t', '\u0007', '\u001f', '\u007f', '\u0085', '\u009f', '\u00a0', '\u2028', '\u2029', '\ufeff', '\u200b',
  '\uff0a', '\uff1f', '\u2217', '\u0430', '\u00e9', '\u00ff', '\u0100', '\ud800', '\udfff', '\ud83d\ude00', '%2a', '%00', ' ',
];
const VALID_CHARS = [...'abcz019AZ_-./'];

/** The first example of a parameter (every shipped one has one), else a plausible value. */
const exampleOf = (s: ParamSchema): string => (typeof s.examples?.[0] === 'string' ? s.examples[0] : 'abc');

/** Any value for one parameter, valid or hostile, right type or wrong. */
function paramValue(schema: ParamSchema): fc.Arbitrary<unknown> {
  const example = exampleOf(schema);
  const maxLength = schema.maxLength ?? 256;
  const last = example.slice(-1);
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(example) },
    // A valid value with hostile fragments spliced in anywhere.
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.array(fc.tuple(fc.nat({ max: example.length }), fc.constantFrom(...HOSTILE)), { minLength: 1, maxLength: 3 }))
        .map(([edits]) => edits.reduce((v, [at, frag]) => v.slice(0, Math.min(at, v.length)) + frag + v.slice(Math.min(at, v.length)), example)),
    },
    // Strings over the allowed characters mixed with hostile fragments.
    { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...VALID_CHARS, ...HOSTILE), maxLength: 40 }) },
    { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...VALID_CHARS), minLength: 1, maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }) },
    // Lengths around the limit, and far beyond it.
    { weight: 2, arbitrary: fc.integer({ min: 0, max: maxLength + 2 }).map((n) => 'a'.repeat(n) + last) },
    { weight: 1, arbitrary: fc.integer({ min: maxLength, max: 20_000 }).map((n) => `${example}${'a'.repeat(n)}${last}`) },
    // Wrong types.
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt().map(String).map(Number),
        fc.array(fc.constant(example), { minLength: 1, maxLength: 2 }), fc.constant({ toString: () => example }), fc.object({ maxDepth: 1 }),
      ),
    },
  );
}

/** Extra keys, including prototype names, other templates' parameter names and placeholder-like names. */
const extraKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'identity', 'identity.developer', 'Action', 'Statement', 'bucket', 'prefix', 'table', 'functionName', 'logGroup', 'artifactPrefix', ''),
  fc.string({ maxLength: 12 }),
);

/** A parameters value: usually an object with some of the template's keys and maybe extras, sometimes anything. */
function parameters(t: LoadedTemplate): fc.Arbitrary<unknown> {
  const schemas = paramSchemas(t);
  const model = Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, paramValue(s)]));
  const object = fc
    .tuple(
      fc.record(model, { requiredKeys: [] }),
      fc.oneof({ weight: 3, arbitrary: fc.constant([] as Array<[string, unknown]>) }, { weight: 1, arbitrary: fc.array(fc.tuple(extraKey, fc.anything({ maxDepth: 2 })), { minLength: 1, maxLength: 3 }) }),
      fc.boolean(),
    )
    .map(([known, extras, allRequired]) => {
      const params: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(known)) params[name] = value;
      // Bias towards complete objects so that accepted renders are common enough to check.
      if (allRequired) for (const [name, s] of Object.entries(schemas)) if (!Object.hasOwn(params, name)) params[name] = exampleOf(s);
      // defineProperty so that "__proto__" becomes an own key, as JSON.parse makes it.
      for (const [key, value] of extras) Object.defineProperty(params, key, { value, enumerable: true, configurable: true, writable: true });
      return params;
    });
  return fc.oneof({ weight: 12, arbitrary: object }, { weight: 1, arbitrary: fc.anything() });
}

/**
 * The expected rendering, computed independently of src/: one left-to-right pass over each string, each
 * `{{name}}` replaced by String(value). A value is never scanned again, so a `{{x}}` inside a value stays literal.
 */
function expectedPolicy(policy: PolicyDocument, params: Record<string, unknown>, identity: RenderIdentity): unknown {
  const resolve = (name: string): string => {
    if (name === 'identity.developer') return identity.developer;
    if (name === 'identity.project') return identity.project;
    return String(params[name]);
  };
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let out = '';
      let i = 0;
      while (i < v.length) {
        const open = v.indexOf('{{', i);
        if (open < 0) break;
        const close = v.indexOf('}}', open + 2);
        if (close < 0) break;
        out += v.slice(i, open) + resolve(v.slice(open + 2, close));
        i = close + 2;
      }
      return out + v.slice(i);
    }
    if (Array.isArray(v)) return v.map(fill);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(policy);
}

/** Every `{{name}}` the template's policy references (shipped templates reference parameters only). */
function referencedNames(policy: PolicyDocument): Set<string> {
  return new Set([...JSON.stringify(policy).matchAll(/\{\{([^{}]+)\}\}/g)].map((m) => m[1] as string));
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const conditionShape = (s: Statement): Record<string, string[]> =>
  Object.fromEntries(Object.entries(s.Condition ?? {}).map(([op, block]) => [op, Object.keys(block).sort()]));

type Outcome = 'refused' | 'rendered';

/** The property for one input: a 400 refusal, or exactly the template's document with the values in their slots. */
function checkOne(t: LoadedTemplate, params: unknown): Outcome {
  let rendered: PolicyDocument;
  let json: string;
  try {
    ({ policy: rendered, json } = renderPolicy(t, params, ALICE));
  } catch (err) {
    if (!(err instanceof ApiError)) throw new Error(`renderPolicy threw a non-ApiError: ${String(err)}`);
    if (err.status !== 400) throw new Error(`renderPolicy answered ${err.status} ${err.code}: ${err.message}`);
    return 'refused';
  }
  const p = params as Record<string, unknown>;
  // Only the template's own parameters get through (additionalProperties: false).
  const known = Object.keys(paramSchemas(t));
  expect(Object.keys(p).filter((k) => !known.includes(k))).toEqual([]);
  // No parameter value carries a wildcard, a policy variable or a placeholder into the policy.
  for (const name of referencedNames(t.policy)) {
    if (name.startsWith('identity.')) continue;
    const text = String(p[name]);
    expect({ name, wildcard: /[*?]|\$\{|\{\{|\}\}/.test(text) }).toEqual({ name, wildcard: false });
  }
  // Same statements: count, Effect, Action/NotAction, Condition operators and keys.
  const want = statementsOf(t.policy);
  const got = statementsOf(rendered);
  expect(got.length).toBe(want.length);
  got.forEach((s, i) => {
    const w = want[i] as Statement;
    expect(Object.keys(s).sort()).toEqual(Object.keys(w).sort());
    expect(s.Effect).toBe(w.Effect);
    expect(s.Action).toEqual(w.Action);
    expect(s.NotAction).toEqual(w.NotAction);
    expect(conditionShape(s)).toEqual(conditionShape(w));
  });
  // Every Resource (and condition value) is the template's pattern with each placeholder replaced by its value.
  const expected = expectedPolicy(t.policy, p, ALICE) as PolicyDocument;
  statementsOf(expected).forEach((w, i) => {
    const s = got[i] as Statement;
    expect(asList(s.Resource)).toEqual(asList(w.Resource));
    expect(asList(s.NotResource)).toEqual(asList(w.NotResource));
    expect(s.Condition).toEqual(w.Condition);
  });
  expect(rendered).toEqual(expected);
  expect(JSON.parse(json)).toEqual(expected);
  return 'rendered';
}

describe('hostile parameter values never widen a rendered policy', () => {
  it('covers every shipped template', () => {
    expect(templates.map((t) => t.name).sort()).toEqual([...SHIPPED].sort());
  });

  it.each(SHIPPED)('%s: any parameters are refused with 400 or render exactly the template', (name) => {
    const t = template(name);
    const seen: Record<Outcome, number> = { refused: 0, rendered: 0 };
    fc.assert(
      fc.property(parameters(t), (params) => {
        seen[checkOne(t, params)] += 1;
      }),
      propertyParams(`hostile parameters: ${name}`, { numRuns: NUM_RUNS }),
    );
    // Both branches were exercised: the property is not vacuous.
    expect(seen.rendered).toBeGreaterThanOrEqual(5);
    expect(seen.refused).toBeGreaterThanOrEqual(5);
  });

  it.each(SHIPPED)('%s: each single hostile fragment in each parameter is refused or stays in its slot', (name) => {
    // Deterministic sweep next to the random one: every fragment at the start, middle and end of every parameter.
    const t = template(name);
    const schemas = paramSchemas(t);
    const base = Object.fromEntries(Object.entries(schemas).map(([k, s]) => [k, exampleOf(s)]));
    for (const [param, value] of Object.entries(base)) {
      for (const frag of HOSTILE) {
        for (const at of [0, value.length >> 1, value.length - 1, value.length]) {
          checkOne(t, { ...base, [param]: value.slice(0, at) + frag + value.slice(at) });
        }
      }
    }
  });
});
