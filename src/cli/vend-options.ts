import { InvalidArgumentError, type Command } from 'commander';
import type { Delivery, VendRequest } from '../client/types';
import { usage } from './context';

/** The vend options `credentials` and `exec` share. */
export interface VendOptions {
  template: string;
  param?: string[];
  paramsJson?: string;
  project?: string;
  duration?: number;
  sessionDuration?: number;
  reason?: string;
}

/** Parses a whole number of seconds for commander; anything else is a usage error naming the option. */
export function seconds(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addVendOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--template <name>', 'task template to vend')
    .option('--param <key=value>', 'a template parameter (repeatable); the value is a string', collect)
    .option('--params-json <json>', 'template parameters as one JSON object (for non-string values); --param entries override it')
    .option('--project <project>', 'project, when the token carries none')
    .option('--duration <seconds>', 'lifetime of each credential (the service default is 900)', seconds)
    .option('--session-duration <seconds>', 'how long a refreshing session (exec, the credentials cache) may keep refreshing (the service default is 3600)', seconds)
    .option('--reason <text>', 'why; shown to approvers when the template requires approval');
}

const PARAM_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** `--params-json` then each `--param key=value` (string values); a repeated key is a usage error. */
export function parseParameters(params: string[], paramsJson?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (paramsJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(paramsJson);
    } catch {
      throw usage('--params-json is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage('--params-json must be a JSON object');
    Object.assign(out, parsed);
  }
  const seen = new Set<string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? '' : p.slice(0, eq);
    if (!PARAM_KEY.test(key)) throw usage(`--param expects key=value with a key of letters, digits, '_', '.', '-', got '${p}'`);
    if (seen.has(key)) throw usage(`--param ${key} is given twice`);
    seen.add(key);
    out[key] = p.slice(eq + 1);
  }
  return out;
}

/** The vend request body the options describe. */
export function vendRequest(opts: VendOptions, delivery: Delivery): VendRequest {
  const body: VendRequest = { template: opts.template, parameters: parseParameters(opts.param ?? [], opts.paramsJson) };
  // "credentials" is the service's default; leaving it out keeps the body valid for services before delivery modes.
  if (delivery === 'container' || delivery === 'gateway') body.delivery = delivery;
  if (opts.project !== undefined) body.project = opts.project;
  if (opts.duration !== undefined) body.durationSeconds = opts.duration;
  if (opts.reason !== undefined) body.reason = opts.reason;
  if (opts.sessionDuration !== undefined) {
    if (delivery === 'credentials') throw usage('--session-duration applies only to a refreshing session (exec, credentials without --no-cache, or gateway)');
    body.sessionDurationSeconds = opts.sessionDuration;
  }
  return body;
}
