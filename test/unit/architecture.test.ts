import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The layering rules of docs/architecture.md, read off the source: every `import ... from '<relative>'` of every
 * file under src/, resolved to a file. A rule that fails names the importing file and what it imports.
 */
const SRC = path.resolve(__dirname, '../../src');

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? files(file) : file.endsWith('.ts') ? [file] : [];
  });
}

const edges: Edge[] = files(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const found: Edge[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    const target = path.resolve(path.dirname(file), m[3]!);
    const to = [`${target}.ts`, path.join(target, 'index.ts')].find((f) => files(path.dirname(f)).includes(f)) ?? `${target}.ts`;
    found.push({ from: path.relative(SRC, file), to: path.relative(SRC, to), typeOnly: Boolean(m[2]) });
  }
  // require('./x') in the package entry loads the server lazily: a runtime edge like any import.
  for (const m of text.matchAll(/require\('(\.[^']+)'\)/g)) found.push({ from: path.relative(SRC, file), to: `${path.relative(SRC, path.resolve(path.dirname(file), m[1]!))}.ts`, typeOnly: false });
  return found;
});

const isDev = (f: string): boolean => f.startsWith(`dev${path.sep}`);
const COMPOSITION_ROOTS = ['main.ts', 'index.ts', path.join('dev', 'dev-server.ts')];
const ROUTE_SHARED = ['middleware.ts', 'guards.ts', 'vend-answer.ts'].map((f) => path.join('routes', f));

describe('architecture rules (docs/architecture.md)', () => {
  it('reads a real import graph', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'app.ts', to: path.join('routes', 'vend.ts'), typeOnly: false });
  });

  it('production code imports nothing of src/dev (the emulator, the dev issuer)', () => {
    expect(edges.filter((e) => !isDev(e.from) && isDev(e.to))).toEqual([]);
  });

  it('no route imports another route: what they share lives in routes/guards.ts, middleware.ts and vend-answer.ts', () => {
    const routeToRoute = edges.filter((e) => e.from.startsWith(`routes${path.sep}`) && e.to.startsWith(`routes${path.sep}`) && !ROUTE_SHARED.includes(e.to));
    expect(routeToRoute).toEqual([]);
  });

  it('only the composition roots load deps.ts; everything else may name its types only', () => {
    const runtime = edges.filter((e) => e.to === 'deps.ts' && !e.typeOnly && !COMPOSITION_ROOTS.includes(e.from));
    expect(runtime).toEqual([]);
  });

  it('the use cases (vend, refresh, revoke, end a session, lift a block, approvals, a gateway call) name no type of the composition root: they declare their ports', () => {
    const useCases = edges.filter((e) => /^(vend|revoke|approvals|gateway)[\\/]/.test(e.from));
    expect(useCases.length).toBeGreaterThan(30);
    expect(useCases.some((e) => e.from === path.join('revoke', 'end-session.ts'))).toBe(true);
    expect(useCases.filter((e) => e.to === 'deps.ts')).toEqual([]);
  });

  it('routes and the console take ports, not AppDeps: only app.ts hands them the whole object', () => {
    const adapters = edges.filter((e) => /^(routes|console)[\\/]/.test(e.from));
    expect(adapters.length).toBeGreaterThan(30);
    expect(adapters.filter((e) => e.to === 'deps.ts')).toEqual([]);
  });

  it('the IAM step of a revocation is built in src/revoke: deps.ts instantiates it and writes no IAM call of its own', () => {
    const text = readFileSync(path.join(SRC, 'deps.ts'), 'utf8');
    expect(edges).toContainEqual({ from: 'deps.ts', to: path.join('revoke', 'apply-role-policy.ts'), typeOnly: false });
    expect(text).toMatch(/roleApplier\(/);
    expect(text).not.toMatch(/applyRolePolicy|longestSessionSeconds|marginSeconds \* 1000/);
  });

  it('approvals take their store as a port: nothing keeps a store per AppDeps on the side', () => {
    const approvals = files(path.join(SRC, 'approvals')).map((f) => readFileSync(f, 'utf8'));
    expect(approvals.filter((t) => /WeakMap/.test(t))).toEqual([]);
  });

  it('only the routes and the composition roots load express', () => {
    const expressUsers = files(SRC)
      .map((f) => path.relative(SRC, f))
      .filter((f) => /^import (?!type)[^;]*from 'express'/m.test(readFileSync(path.join(SRC, f), 'utf8')));
    const allowed = (f: string): boolean => f.startsWith(`routes${path.sep}`) || ['app.ts'].includes(f) || isDev(f) || f.startsWith(`gateway${path.sep}`) || f.startsWith(`console${path.sep}`);
    expect(expressUsers.filter((f) => !allowed(f))).toEqual([]);
  });

  it('only the storage layer loads ioredis, and every Redis key is built by src/storage/keys.ts', () => {
    const sources = files(SRC).map((f) => ({ file: path.relative(SRC, f), text: readFileSync(f, 'utf8') }));
    const loaders = sources.filter((s) => /^import (?!type)[^;]*from 'ioredis'/m.test(s.text)).map((s) => s.file);
    expect(loaders).toEqual([path.join('storage', 'redis-client.ts')]);
    // A key is "<prefix>{tag}...": a template literal opening a hash tag outside keys.ts is a key map of its own.
    const keyBuilders = sources.filter((s) => !isDev(s.file) && s.file !== path.join('storage', 'keys.ts') && /\$\{[^}]*[pP]refix[^}]*\}\{/.test(s.text));
    expect(keyBuilders.map((s) => s.file)).toEqual([]);
  });

  it('the storage layer depends on no route, use case or feature module', () => {
    const allowed = (to: string): boolean => to.startsWith(`storage${path.sep}`) || ['ports.ts', 'errors.ts', path.join('revoke', 'revocation-entries.ts'), path.join('auth', 'identity-key.ts')].includes(to);
    const storage = edges.filter((e) => e.from.startsWith(`storage${path.sep}`) && !e.typeOnly);
    expect(storage.length).toBeGreaterThan(10);
    expect(storage.filter((e) => !allowed(e.to))).toEqual([]);
  });

  it('the client library agents import loads no server module', () => {
    const client = edges.filter((e) => e.from.startsWith(`client${path.sep}`) && !e.typeOnly);
    expect(client.length).toBeGreaterThan(3);
    expect(client.filter((e) => !e.to.startsWith(`client${path.sep}`))).toEqual([]);
  });

  it('the client names no server type either: its types come from openapi.yaml (client/openapi-types.ts)', () => {
    const client = edges.filter((e) => e.from.startsWith(`client${path.sep}`));
    expect(client).toContainEqual({ from: path.join('client', 'types.ts'), to: path.join('client', 'openapi-types.ts'), typeOnly: true });
    expect(client.filter((e) => !e.to.startsWith(`client${path.sep}`))).toEqual([]);
  });
});
