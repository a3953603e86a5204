/**
 * docker-compose.yml and the Dockerfile read as data, for the compose tests (Docker itself does not run here):
 * the compose services with their volumes, ports and environment normalised from compose's short forms, and
 * the Dockerfile as stages of instructions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');
export const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
export interface Port {
  hostIp: string;
  host: number;
  container: number;
}
export interface Service {
  name: string;
  raw: Record<string, unknown>;
  image?: string;
  /** `build:` as `{context, target}` (compose's short form `build: .` has no target: the last stage). */
  build?: { context: string; target?: string };
  profiles: string[];
  command: string[];
  /** Bind mounts only (named volumes are left out). */
  mounts: Mount[];
  ports: Port[];
  /** Variables with a value in the file; pass-through names (no value) are in `passThrough`. */
  env: Record<string, string>;
  passThrough: string[];
  healthcheck?: string[];
  dependsOn: string[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function buildOf(raw: unknown): Service['build'] {
  if (typeof raw === 'string') return { context: raw };
  if (raw && typeof raw === 'object') {
    const { context, target } = raw as { context?: unknown; target?: unknown };
    return { context: String(context ?? '.'), ...(typeof target === 'string' ? { target } : {}) };
  }
  return undefined;
}

/** Parses docker-compose.yml (merge keys on, as compose reads them) into services by name. */
export function loadCompose(text = read('docker-compose.yml')): { doc: Record<string, unknown>; services: Map<string, Service> } {
  const doc = parseYaml(text, { merge: true }) as Record<string, unknown>;
  const services = new Map<string, Service>();
  for (const [name, raw] of Object.entries(doc.services as Record<string, Record<string, unknown>>)) {
    const env: Record<string, string> = {};
    const passThrough: string[] = [];
    const environment = raw.environment;
    if (Array.isArray(environment)) {
      for (const item of environment.map(String)) {
        const eq = item.indexOf('=');
        if (eq < 0) passThrough.push(item);
        else env[item.slice(0, eq)] = item.slice(eq + 1);
      }
    } else if (environment && typeof environment === 'object') {
      for (const [k, v] of Object.entries(environment)) if (v === null) passThrough.push(k); else env[k] = String(v);
    }
    const mounts = strings(raw.volumes)
      .map((v) => v.split(':'))
      .filter(([source]) => source !== undefined && /^[.~/]/.test(source))
      .map(([source, target, mode]) => ({ source: source!, target: target!, readOnly: mode === 'ro' }));
    const ports = strings(raw.ports).map((p) => {
      const parts = p.split(':');
      const [container, host, hostIp] = [parts.pop(), parts.pop(), parts.pop()];
      return { hostIp: hostIp ?? '0.0.0.0', host: Number(host), container: Number(container) };
    });
    const deps = raw.depends_on;
    services.set(name, {
      name,
      raw,
      image: raw.image as string | undefined,
      build: buildOf(raw.build),
      profiles: strings(raw.profiles),
      command: strings(raw.command),
      mounts,
      ports,
      env,
      passThrough,
      healthcheck: strings((raw.healthcheck as { test?: unknown } | undefined)?.test),
      dependsOn: Array.isArray(deps) ? deps.map(String) : Object.keys((deps as object | undefined) ?? {}),
    });
  }
  return { doc, services };
}

export interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile as stages (split at FROM), comments dropped and continuation lines joined. */
export function loadDockerfile(text = read('Dockerfile')): Instruction[][] {
  const stages: Instruction[][] = [];
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of joined) {
    const [op, ...rest] = line.split(/\s+/);
    const ins = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(ins);
  }
  return stages;
}

/** A stage's name (`FROM x AS name`) and what it starts from. */
export function stageOf(stage: Instruction[]): { from: string; name?: string } {
  const [from, as, name] = stage[0]!.args.split(/\s+/);
  return { from: from!, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}) };
}

/**
 * The instructions an image built with `--target` (default: the last stage) is made of: a stage that starts
 * `FROM` another stage inherits that stage's instructions (its FROM dropped), as Docker builds it.
 */
export function imageOf(stages: Instruction[][], target?: string): Instruction[] {
  const named = new Map(stages.map((st) => [stageOf(st).name, st] as const));
  const resolve = (st: Instruction[]): Instruction[] => {
    const parent = named.get(stageOf(st).from);
    return parent ? [...resolve(parent), ...st.slice(1)] : st;
  };
  const stage = target === undefined ? stages.at(-1) : named.get(target);
  if (!stage) throw new Error(`the Dockerfile has no stage ${target}`);
  return resolve(stage);
}

/** A COPY instruction's sources, destination and `--from` stage. */
export function copyOf(ins: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = ins.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** An exec-form instruction argument (`["node", "x.js"]`) as a list. */
export const execForm = (args: string): string[] => JSON.parse(args.slice(args.indexOf('['))) as string[];

/** The `KEY=value` pairs of ENV instructions in a stage. */
export function envOf(stage: Instruction[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ins of stage.filter((i) => i.op === 'ENV')) {
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return out;
}

/** Whether `.dockerignore` keeps `file` (a context-relative path) out of the build context. */
export function dockerIgnored(file: string, ignore = read('.dockerignore')): boolean {
  let ignored = false;
  for (const raw of ignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(
      `^${pattern
        .split('**/')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('(?:.*/)?')}(?:/.*)?$`,
    );
    if (re.test(file)) ignored = !negate;
  }
  return ignored;
}

/** The host path behind a container path: the service's bind mounts first, then the image's /app (the repo). */
export function hostPathOf(service: Service, containerPath: string, appRoot = ROOT): string | undefined {
  for (const m of service.mounts) {
    if (containerPath === m.target || containerPath.startsWith(`${m.target}/`)) {
      return path.join(path.resolve(ROOT, m.source), containerPath.slice(m.target.length));
    }
  }
  return containerPath.startsWith('/app/') ? path.join(appRoot, containerPath.slice('/app/'.length)) : undefined;
}

/** The value after a `--flag` in a command line. */
export const argOf = (command: string[], flag: string): string | undefined => {
  const i = command.indexOf(flag);
  return i >= 0 ? command[i + 1] : undefined;
};
