import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const OPENAPI_YAML = path.join(ROOT, 'openapi.yaml');
const TYPES_FILE = path.join(ROOT, 'src', 'client', 'openapi-types.ts');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/**
 * One contract: the TypeScript the client and the routes use (src/client/openapi-types.ts) is what
 * openapi-typescript makes of openapi.yaml now. The routes' `req.body` and the answers' types come from that
 * file, so with it up to date `npm run lint` fails on a route or answer that drifted from openapi.yaml.
 */
describe('openapi-types.ts is generated from openapi.yaml', () => {
  it('the committed file is what openapi.yaml gives (npm run types:openapi rewrites it)', () => {
    const committed = readFileSync(TYPES_FILE, 'utf8');
    expect(committed.length).toBeGreaterThan(10_000);
    // The generator itself, in its own process (jest cannot load openapi-typescript's ES-module dependencies).
    const run = spawnSync(TSX, [path.join(ROOT, 'scripts', 'openapi-types.ts'), '--stdout'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toEqual(committed);
  });

  it('holds the operations and schemas the client and routes name', () => {
    const text = readFileSync(TYPES_FILE, 'utf8');
    for (const name of ['VendRequest', 'VendResponse', 'RevokeRequest', 'Revocation', 'Session', 'Approval', 'ApprovalDecision', 'ErrorCode']) {
      expect(text).toMatch(new RegExp(`^ {8}${name}: `, 'm'));
    }
    for (const op of ['vendCredentials', 'listSessions', 'listRevocations', 'containerCredentials', 'approve', 'deny']) {
      expect(text).toMatch(new RegExp(`^ {4}${op}: \\{`, 'm'));
    }
  });

  it('openapi.yaml has no null value: an unquoted comma in a flow mapping cuts a description and adds a key', () => {
    const nulls: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (v === null) nulls.push(at);
      else if (typeof v === 'object') for (const [k, x] of Object.entries(v as object)) walk(x, `${at}/${k}`);
    };
    walk(parseYaml(readFileSync(OPENAPI_YAML, 'utf8')), '');
    expect(nulls).toEqual([]);
  });
});
