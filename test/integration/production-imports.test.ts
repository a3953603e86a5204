/**
 * `npm start` never starts the dev issuer or the emulator: nothing src/main.ts loads, directly or through any
 * module it loads, lives in src/dev/. Type-only imports are left out: TypeScript erases them, so they load nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

/** Relative modules a source file loads at run time: import/export-from (not `type`), bare import, require(), import(). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)(\s+type\b)?[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g)) if (!m[1]) specs.push(m[2]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => {
      const base = path.resolve(path.dirname(file), s);
      const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => existsSync(f) && f.endsWith('.ts'));
      if (!found) throw new Error(`${path.relative(SRC, file)}: cannot resolve ${s}`);
      return found;
    });
}

/** Every source module reachable from `entry`, as paths relative to src/. */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [path.join(SRC, entry)];
  for (let file = queue.pop(); file; file = queue.pop()) {
    const rel = path.relative(SRC, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    queue.push(...runtimeImports(file));
  }
  return seen;
}

it('src/main.ts loads no module of src/dev/', () => {
  const graph = importGraph('main.ts');
  expect([...graph].filter((f) => f.startsWith(`dev${path.sep}`))).toEqual([]);
  // The walk reaches what production wires: the app, its dependencies and the start-up checks.
  for (const f of ['app.ts', 'deps.ts', 'startup/aws-setup.ts', 'startup/tls.ts', 'routes/vend.ts']) expect([f, graph.has(f)]).toEqual([f, true]);
});

it('the healthcheck and the check command load no module of src/dev/ either', () => {
  for (const entry of ['startup/healthcheck.ts', 'check.ts']) {
    expect([entry, [...importGraph(entry)].filter((f) => f.startsWith(`dev${path.sep}`))]).toEqual([entry, []]);
  }
});

it('finds dev modules where they are loaded (the walk is not blind)', () => {
  const graph = importGraph('dev/dev-server.ts');
  expect(graph.has(path.join('dev', 'local-aws', 'index.ts'))).toBe(true);
  expect(graph.has(path.join('dev', 'dev-issuer.ts'))).toBe(true);
});
