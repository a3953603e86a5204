import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveToken, serviceUrl } from '../../src/cli/connection';
import { run } from '../../src/cli/program';

/** Runs the CLI in-process; a URL nobody listens on, so anything that got as far as the network says so. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => (out += s), err: (s) => (err += s), env, exitCode: 0 });
  return { code, out, err };
}

const SECRET_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ';

describe('sts-vend argument errors exit 2 with one `sts-vend: usage:` line', () => {
  it.each<[string, string[], RegExp]>([
    ['a missing --template', ['credentials'], /required option '--template <name>'/],
    ['an unknown --format', ['credentials', '--template', 't', '--format', 'yaml'], /argument 'yaml' is invalid/],
    ['a non-numeric --duration', ['credentials', '--template', 't', '--duration', '15m'], /whole number of seconds/],
    ['a bad --param', ['credentials', '--template', 't', '--param', 'nokey'], /--param expects key=value/],
    ['--no-cache with --cache-dir', ['credentials', '--template', 't', '--no-cache', '--cache-dir', '/x'], /--cache-dir and --no-cache contradict/],
    ['the retired --check', ['credentials', '--template', 't', '--check'], /unknown option '--check'/],
    ['two token sources', ['credentials', '--template', 't', '--token', 'a', '--token-file', '/x'], /only one of --token, --token-file, --token-command/],
    ['exec without a command', ['exec', '--template', 't'], /missing required argument 'command'/],
    ['an unknown command', ['vend'], /unknown command 'vend'/],
    ['revoke without --reason', ['revoke', '--all'], /required option '--reason <text>'/],
    ['revoke with two selectors', ['revoke', '--all', '--project', 'p', '--reason', 'r'], /exactly one of/],
    ['a malformed session id', ['end-session', '../x'], /12 letters and digits/],
    ['a --limit out of range', ['sessions', '--limit', '501'], /1 to 500/],
    ['a --url that is not http', ['sessions', '--url', 'ftp://x'], /--url must be an http\(s\) URL/],
  ])('%s', async (_name, argv, message) => {
    const res = await cli([...argv], { STS_VEND_TOKEN: SECRET_TOKEN, STS_VEND_URL: 'http://127.0.0.1:9' });
    expect(res.code).toBe(2);
    expect(res.err.split('\n')[0]).toMatch(/^sts-vend: usage: /);
    expect(res.err).toMatch(message);
    expect(res.out).toBe('');
  });

  it('--help prints usage on stdout and exits 0', async () => {
    const res = await cli(['credentials', '--help']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('--format <format>');
    expect(res.out).toContain('STS_VEND_TOKEN');
  });
});

describe('service errors exit 1 and never print the token', () => {
  it('an unreachable service is `unreachable`, naming only the origin', async () => {
    const res = await cli(['credentials', '--template', 't', '--url', 'http://127.0.0.1:9/base'], { STS_VEND_TOKEN: SECRET_TOKEN });
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^sts-vend: unreachable: cannot reach http:\/\/127\.0\.0\.1:9 \(/);
    expect(res.err).not.toContain(SECRET_TOKEN);
    expect(res.out).toBe('');
  });

  it('no token anywhere is `missing_token`', async () => {
    const res = await cli(['sessions'], {});
    expect(res).toMatchObject({ code: 1, out: '' });
    expect(res.err).toMatch(/^sts-vend: missing_token: /);
  });
});

describe('token sources', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-cli-'));

  it('--token-file is read and trimmed; an unreadable one is named, not echoed', async () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, `  ${SECRET_TOKEN}\n`);
    await expect(resolveToken({ tokenFile: file }, {})).resolves.toBe(SECRET_TOKEN);
    await expect(resolveToken({ tokenFile: path.join(dir, 'absent') }, {})).rejects.toMatchObject({ code: 'token_file_unreadable', message: expect.stringContaining('ENOENT') });
  });

  it('--token-command runs through the shell with our environment; its stdout is the token', async () => {
    await expect(resolveToken({ tokenCommand: 'printf "%s\\n" "$IDP_TOKEN" | tr -d " "' }, { PATH: process.env.PATH, IDP_TOKEN: SECRET_TOKEN })).resolves.toBe(SECRET_TOKEN);
  });

  it('a failing --token-command is an error with its status, not its output', async () => {
    const err = await resolveToken({ tokenCommand: `echo ${SECRET_TOKEN}; exit 3` }, { PATH: process.env.PATH }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'token_command_failed', message: '--token-command exited with status 3' });
  });

  it('flags win over STS_VEND_TOKEN, which is the fallback', async () => {
    await expect(resolveToken({ token: 'from-flag' }, { STS_VEND_TOKEN: 'from-env' })).resolves.toBe('from-flag');
    await expect(resolveToken({}, { STS_VEND_TOKEN: ' from-env\n' })).resolves.toBe('from-env');
  });

  it.each([[''], ['  \n'], ['two words']])('refuses the token %j', async (token) => {
    await expect(resolveToken({ token }, {})).rejects.toMatchObject({ exitCode: 1 });
  });

  it('the URL comes from --url, then STS_VEND_URL, then the local default', () => {
    expect(serviceUrl({ url: 'https://a.example' }, { STS_VEND_URL: 'https://b.example' })).toBe('https://a.example');
    expect(serviceUrl({}, { STS_VEND_URL: 'https://b.example' })).toBe('https://b.example');
    expect(serviceUrl({}, {})).toBe('http://127.0.0.1:8080');
  });
});
