import { revokeRequest } from '../../src/cli/revoke-command';
import { parseParameters, vendRequest } from '../../src/cli/vend-options';

const usageError = (fn: () => unknown): { code?: string; exitCode?: number; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; exitCode?: number; message: string };
  }
  throw new Error('expected a usage error');
};

describe('template parameters', () => {
  it('--param values are strings; only the first = splits', () => {
    expect(parseParameters(['bucket=backend-data', 'prefix=reports/', 'expr=a=b', 'empty='])).toEqual({
      bucket: 'backend-data',
      prefix: 'reports/',
      expr: 'a=b',
      empty: '',
    });
  });

  it('--params-json gives typed values and --param overrides it', () => {
    expect(parseParameters(['prefix=b/'], '{"bucket":"x","prefix":"a/","max":3,"tags":["t"]}')).toEqual({ bucket: 'x', prefix: 'b/', max: 3, tags: ['t'] });
  });

  it.each<[string, string[], string | undefined, RegExp]>([
    ['no =', ['bucket'], undefined, /--param expects key=value.*got 'bucket'/],
    ['an empty key', ['=x'], undefined, /--param expects key=value/],
    ['a key with a space', ['a b=x'], undefined, /--param expects key=value/],
    ['a repeated key', ['a=1', 'a=2'], undefined, /--param a is given twice/],
    ['JSON that does not parse', [], '{bucket:', /--params-json is not valid JSON/],
    ['a JSON array', [], '["a"]', /--params-json must be a JSON object/],
    ['JSON null', [], 'null', /--params-json must be a JSON object/],
  ])('refuses %s as a usage error (exit 2)', (_name, params, json, message) => {
    const err = usageError(() => parseParameters(params, json));
    expect(err).toMatchObject({ code: 'usage', exitCode: 2 });
    expect(err.message).toMatch(message);
  });
});

describe('vend request body', () => {
  const base = { template: 's3-read-prefix', param: ['bucket=b', 'prefix=p/'] };

  it('leaves delivery out for plain credentials (the service default) and sets it for container', () => {
    expect(vendRequest({ ...base, duration: 1800 }, 'credentials')).toEqual({ template: 's3-read-prefix', parameters: { bucket: 'b', prefix: 'p/' }, durationSeconds: 1800 });
    expect(vendRequest({ ...base, project: 'backend-api', sessionDuration: 7200 }, 'container')).toEqual({
      template: 's3-read-prefix',
      parameters: { bucket: 'b', prefix: 'p/' },
      project: 'backend-api',
      delivery: 'container',
      sessionDurationSeconds: 7200,
    });
  });

  it('--session-duration without a refreshing session is a usage error', () => {
    expect(usageError(() => vendRequest({ ...base, sessionDuration: 7200 }, 'credentials'))).toMatchObject({ code: 'usage' });
  });
});

describe('revoke selectors', () => {
  it.each<[Record<string, unknown>, Record<string, unknown>]>([
    [{ session: 'AbCdEfGh1234' }, { sessionId: 'AbCdEfGh1234' }],
    [{ developer: 'alice@example.com' }, { developer: 'alice@example.com' }],
    [{ developer: 'иван@x.com', issuer: 'corp' }, { developer: { issuer: 'corp', claim: 'иван@x.com' } }],
    [{ project: 'backend-api' }, { project: 'backend-api' }],
    [{ template: 's3-read-prefix' }, { template: 's3-read-prefix' }],
    [{ all: true }, { all: true }],
  ])('%j becomes %j', (opts, selector) => {
    expect(revokeRequest({ ...opts, reason: 'leaked' })).toEqual({ ...selector, reason: 'leaked' });
  });

  it('adds a block when asked', () => {
    expect(revokeRequest({ developer: 'a', reason: 'r', block: 3600 })).toEqual({ developer: 'a', reason: 'r', block: { durationSeconds: 3600 } });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no selector', { reason: 'r' }, /exactly one of --session, --developer, --project, --template, --all$/],
    ['two selectors', { developer: 'a', all: true, reason: 'r' }, /\(got --developer, --all\)/],
    ['a blank reason', { all: true, reason: '  ' }, /--reason must not be empty/],
    ['an issuer without a developer', { issuer: 'corp', all: true, reason: 'r' }, /--issuer names the issuer of a --developer claim/],
  ])('refuses %s', (_name, opts, message) => {
    const err = usageError(() => revokeRequest(opts as unknown as Parameters<typeof revokeRequest>[0]));
    expect(err.code).toBe('usage');
    expect(err.message).toMatch(message);
  });
});
