import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './errors';

/** openapi.yaml beside package.json, both in the source tree and in the built image. */
export const OPENAPI_FILE = path.resolve(__dirname, '..', 'openapi.yaml');

interface Operation {
  method: string;
  /** The spec's path template, e.g. `/v1/sessions/{id}`. */
  path: string;
  /** The same path as an express route, e.g. `/v1/sessions/:id`. */
  route: string;
  body?: ValidateFunction;
  params?: ValidateFunction;
  /** Query parameters, validated with type coercion (query strings are all text). */
  query?: ValidateFunction;
  responses: Map<string, ValidateFunction>;
}

export interface OpenApi {
  operations: Operation[];
  find(method: string, route: string): Operation | undefined;
}

/**
 * Compiles every request and response schema of openapi.yaml once, at start. Components are
 * re-homed under `$defs` of one schema so `$ref`s resolve without teaching Ajv the OpenAPI document shape.
 */
export function loadOpenApi(file: string = OPENAPI_FILE): OpenApi {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, OperationDoc>>;
    components: { schemas: Record<string, unknown>; responses: Record<string, ResponseDoc> };
  };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const coercing = new Ajv2020({ allErrors: true, strict: false, coerceTypes: true, useDefaults: true });
  addFormats(coercing);
  const rehome = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replaceAll('"#/components/schemas/', '"openapi#/$defs/'));
  for (const a of [ajv, coercing]) a.addSchema({ $id: 'openapi', $defs: rehome(doc.components.schemas) as object });
  const compile = (schema: unknown, with_ = ajv): ValidateFunction => with_.compile(rehome(schema) as object);
  const paramsSchema = (list: ParameterDoc[], closed: boolean): object => ({
    type: 'object',
    ...(closed ? { additionalProperties: false } : {}),
    required: list.filter((x) => x.required).map((x) => x.name),
    properties: Object.fromEntries(list.map((x) => [x.name, x.schema])),
  });

  const operations: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const responses = new Map<string, ValidateFunction>();
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        const resolved = r.$ref ? doc.components.responses[r.$ref.split('/').pop() ?? ''] : r;
        const schema = resolved?.content?.['application/json']?.schema;
        if (schema) responses.set(status, compile(schema));
      }
      const pathParams = (op.parameters ?? []).filter((x) => x.in === 'path');
      const queryParams = (op.parameters ?? []).filter((x) => x.in === 'query');
      operations.push({
        method: method.toUpperCase(),
        path: p,
        route: p.replace(/\{(\w+)\}/g, ':$1'),
        body: op.requestBody ? compile(op.requestBody.content['application/json']?.schema ?? {}) : undefined,
        params: pathParams.length ? compile(paramsSchema(pathParams, false)) : undefined,
        // Unknown query parameters are refused too: a misspelt filter must not silently list everything.
        query: queryParams.length ? compile(paramsSchema(queryParams, true), coercing) : undefined,
        responses,
      });
    }
  }
  return { operations, find: (method, route) => operations.find((o) => o.method === method && o.route === route) };
}

/** Throws a 400 naming the first failing field (and lists all of them in details). */
export function assertValid(validate: ValidateFunction, value: unknown, where: 'body' | 'path' | 'query'): void {
  if (validate(value)) return;
  const errors = (validate.errors ?? []).map((e) => ({ path: fieldPath(where, e), message: describe(e) }));
  const first = errors[0] ?? { path: where, message: 'is invalid' };
  throw new ApiError(400, 'invalid_request', `${first.path}: ${first.message}`, { details: { errors } });
}

function fieldPath(where: string, e: ErrorObject): string {
  const base = `${where}${e.instancePath.replace(/\//g, '.')}`;
  if (e.keyword === 'required') return `${base}.${String(e.params.missingProperty)}`;
  if (e.keyword === 'additionalProperties') return `${base}.${String(e.params.additionalProperty)}`;
  return base;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'additionalProperties') return 'is not allowed';
  return e.message ?? 'is invalid';
}

interface ResponseDoc {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
}
interface ParameterDoc {
  name: string;
  in: string;
  required?: boolean;
  schema: unknown;
}
interface OperationDoc {
  requestBody?: { content: Record<string, { schema?: unknown }> };
  parameters?: ParameterDoc[];
  responses?: Record<string, ResponseDoc>;
}
