import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { API_ERROR_STATUS, CONSOLE_ERROR_STATUS, CONTAINER_ERROR_STATUS } from '../../src/error-codes';

/** One contract for errors: the table in src/error-codes.ts, openapi.yaml's ErrorCode and every throw in src/. */
const ROOT = path.resolve(__dirname, '../..');
const openapi = parse(readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8')) as { components: { schemas: { ErrorCode: { enum: string[]; description: string } } } };
const schema = openapi.components.schemas.ErrorCode;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('error codes', () => {
  it('openapi.yaml lists exactly the table, as an enum', () => {
    expect([...schema.enum].sort()).toEqual(Object.keys(API_ERROR_STATUS).sort());
  });

  it('openapi.yaml gives each code the status the table does', () => {
    const documented: Record<string, number> = {};
    for (const m of schema.description.matchAll(/^(\d{3}): (.+)$/gm)) for (const code of m[2]!.split(', ')) documented[code] = Number(m[1]);
    expect(documented).toEqual(API_ERROR_STATUS);
  });

  it('every `new ApiError(status, code)` in src/ throws a code of the table with its status', () => {
    const table: Record<string, number> = { ...API_ERROR_STATUS, ...CONTAINER_ERROR_STATUS, ...CONSOLE_ERROR_STATUS };
    const thrown: Array<{ file: string; status: number; code: string; documented: number | undefined }> = [];
    for (const file of sources(path.join(ROOT, 'src')).filter((f) => !f.includes(`${path.sep}dev${path.sep}`))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/new ApiError\(\s*(\d{3}),\s*'([A-Za-z_]+)'/g)) {
        thrown.push({ file: path.relative(ROOT, file), status: Number(m[1]), code: m[2]!, documented: table[m[2]!] });
      }
    }
    expect(thrown.length).toBeGreaterThan(40);
    expect(thrown.filter((t) => t.documented !== t.status)).toEqual([]);
  });

  it('the README names every code under its status', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| ([\d, ]+) \| (.+) \|$/gm)].map((m) => ({ statuses: m[1]!.split(/, */).map(Number), codes: [...m[2]!.matchAll(/`([a-z_]+)`/g)].map((c) => c[1]!) }));
    const missing = Object.entries(API_ERROR_STATUS).filter(([code, status]) => !rows.some((r) => r.statuses.includes(status) && r.codes.includes(code)));
    expect(missing).toEqual([]);
  });
});
