/**
 * Hostile input over HTTP (issue 7, reliability suite), against the real app with its own Redis, the AWS
 * emulator and two dev issuers: mutated JWTs, arbitrary JSON bodies, oversized bodies, wrong content types, deep
 * JSON and unicode edge cases never get a 5xx, and never get credentials unless the request was a valid vend.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(120_000);

const NUM_RUNS = 150;
const VALID_BODY = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };

let stack: TestStack;
/** A second replica over the same Redis and emulator with the largest body limit the config allows (1 MiB). */
let big: TestStack;
let token: string;
let bigToken: string;

beforeAll(async () => {
  stack = await startStack();
  big = await startStack({ reuse: { redis: stack.redis, aws: stack.aws }, configure: (raw) => ((raw.server as Record<string, unknown>).bodyLimitBytes = 1_048_576) });
  token = await stack.token();
  bigToken = await big.token();
});
afterAll(async () => {
  await big?.stop();
  await stack?.stop();
});

/** POST /v1/vend with an exact body (bytes as given, never re-serialised) and content type. */
function post(app: TestStack['app'], body: Buffer | string, contentType = 'application/json', bearer = token): request.Test {
  return request(app)
    .post('/v1/vend')
    .set('Authorization', `Bearer ${bearer}`)
    .set('Content-Type', contentType)
    .serialize((data) => data)
    .send(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
}

/** The same without any Content-Type header (superagent would add one), over a plain HTTP request. */
async function postWithoutContentType(app: TestStack['app'], text: string): Promise<{ status: number; body: string }> {
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/vend', headers: { authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(text) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(text);
    });
  } finally {
    server.close();
  }
}

/** The invariant of every answer here: no 5xx, and credentials only in a 200. */
function expectNoServerErrorNorLeak(res: request.Response, what: string): void {
  const summary = { what: what.slice(0, 300), status: res.status, code: res.body?.error?.code };
  expect({ ...summary, serverError: res.status >= 500 }).toEqual({ ...summary, serverError: false });
  if (res.status !== 200) {
    expect({ ...summary, credentials: res.body?.credentials, container: res.body?.container }).toEqual({ ...summary, credentials: undefined, container: undefined });
    expect(res.text).not.toMatch(/secretAccessKey|sessionToken|authorizationToken/);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (a) mutated JWTs
// ---------------------------------------------------------------------------------------------------------------

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
/** Characters a mutation may add: base64url mostly, plus separators and characters outside it (printable ASCII only). */
const TOKEN_CHAR = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...B64URL) }, { weight: 1, arbitrary: fc.constantFrom('.', '=', '+', '/', '~', '%', '"', ' ', '\\', '*') });
const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64url');

type Mutation = (segments: string[]) => string[];

/** One position inside one segment, as fractions so the arbitrary does not depend on the token. */
const spot = fc.tuple(fc.nat({ max: 2 }), fc.double({ min: 0, max: 1, noNaN: true }));
const at = (seg: string, f: number): number => Math.min(seg.length, Math.floor(f * (seg.length + 1)));
const edit = (segments: string[], i: number, fn: (s: string) => string): string[] => segments.map((s, k) => (k === i ? fn(s) : s));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // flip, insert, delete one character in header, payload or signature
  fc.tuple(spot, TOKEN_CHAR).map(([[i, f], c]): Mutation => (s) => edit(s, i, (x) => { const p = Math.min(at(x, f), x.length - 1); return x.slice(0, p) + c + x.slice(p + 1); })),
  fc.tuple(spot, TOKEN_CHAR).map(([[i, f], c]): Mutation => (s) => edit(s, i, (x) => x.slice(0, at(x, f)) + c + x.slice(at(x, f)))),
  spot.map(([i, f]): Mutation => (s) => edit(s, i, (x) => { const p = Math.min(at(x, f), x.length - 1); return x.slice(0, p) + x.slice(p + 1); })),
  // flip one bit of the decoded bytes of a segment
  fc.tuple(spot, fc.nat({ max: 7 })).map(([[i, f], bit]): Mutation => (s) => edit(s, i, (x) => {
    const bytes = Buffer.from(x, 'base64url');
    if (bytes.length === 0) return x;
    const p = Math.min(Math.floor(f * bytes.length), bytes.length - 1);
    bytes[p] = (bytes[p] as number) ^ (1 << bit);
    return bytes.toString('base64url');
  })),
  // swap, drop, duplicate segments
  fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })).map(([i, j]): Mutation => (s) => s.map((x, k) => (k === i ? (s[j] as string) : k === j ? (s[i] as string) : x))),
  fc.nat({ max: 2 }).map((i): Mutation => (s) => s.filter((_x, k) => k !== i)),
  fc.nat({ max: 2 }).map((i): Mutation => (s) => [...s.slice(0, i + 1), s[i] as string, ...s.slice(i + 1)]),
  // a segment replaced by base64 garbage, by arbitrary base64url, emptied, or truncated
  fc.tuple(fc.nat({ max: 2 }), fc.uint8Array({ maxLength: 300 })).map(([i, bytes]): Mutation => (s) => edit(s, i, () => b64(Buffer.from(bytes)))),
  fc.tuple(fc.nat({ max: 2 }), fc.base64String({ maxLength: 200 })).map(([i, g]): Mutation => (s) => edit(s, i, () => g)),
  fc.nat({ max: 2 }).map((i): Mutation => (s) => edit(s, i, () => '')),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f): Mutation => (s) => { const t = s.join('.'); return t.slice(0, Math.floor(f * t.length)).split('.'); }),
  // header re-encoded: another alg (none, HS256 with the same signature, ...), another or no kid, odd fields
  fc
    .record({
      alg: fc.option(fc.constantFrom('none', 'None', 'HS256', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', 'RS512', ''), { nil: undefined }),
      kid: fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.constant('../../etc/passwd'), fc.constant(null)), { nil: undefined }),
      extra: fc.option(fc.constantFrom({ crit: ['exp'] }, { b64: false, crit: ['b64'] }, { jku: 'http://127.0.0.1:1/jwks' }, { typ: 'JWE' }, { zip: 'DEF' }), { nil: undefined }),
    })
    .map(({ alg, kid, extra }): Mutation => (s) => edit(s, 0, (x) => {
      let header: Record<string, unknown> = {};
      try { header = JSON.parse(Buffer.from(x, 'base64url').toString('utf8')) as Record<string, unknown>; } catch { /* garbage stays garbage */ }
      if (alg !== undefined) header.alg = alg;
      if (kid !== undefined) header.kid = kid;
      return b64(JSON.stringify({ ...header, ...extra }));
    })),
  // payload re-encoded with one claim changed or removed (signature no longer matches)
  fc
    .tuple(fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'email', 'groups', 'project'), fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 1 }), fc.constant(['secops']), fc.constant(9_999_999_999)))
    .map(([claim, value]): Mutation => (s) => edit(s, 1, (x) => {
      let payload: Record<string, unknown> = {};
      try { payload = JSON.parse(Buffer.from(x, 'base64url').toString('utf8')) as Record<string, unknown>; } catch { /* keep empty */ }
      if (value === undefined) delete payload[claim];
      else payload[claim] = value;
      return b64(JSON.stringify(payload));
    })),
);

/**
 * A mutated token that still means the original one: same header and payload text, same signature bytes. Node
 * (and jose) decode base64url leniently about the unused low bits of the last character, so such a token is the
 * same signature and may be accepted; it grants nothing the original did not.
 */
function sameAsOriginal(mutated: string, original: string): boolean {
  const m = mutated.split('.');
  const o = original.split('.');
  if (m.length !== 3 || m[0] !== o[0] || m[1] !== o[1]) return false;
  if (!/^[A-Za-z0-9_-]*$/.test(m[2] as string)) return false;
  return Buffer.from(m[2] as string, 'base64url').equals(Buffer.from(o[2] as string, 'base64url'));
}

describe('(a) mutated JWTs', () => {
  it('a random mutation of a valid RS256 or ES256 token is always 401 and never credentials', async () => {
    const originals = [await stack.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { alg: 'RS256' }), await stack.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { alg: 'ES256' })];
    // The originals are accepted, so a 401 below is the mutation's doing.
    for (const t of originals) expect((await stack.vend(VALID_BODY, t)).status).toBe(200);
    let equivalents = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, mutations) => {
        const original = originals[which] as string;
        const mutated = mutations.reduce((segs, m) => m(segs), original.split('.')).join('.');
        const res = await post(stack.app, JSON.stringify(VALID_BODY), 'application/json', mutated);
        expectNoServerErrorNorLeak(res, mutated);
        if (mutated === original || sameAsOriginal(mutated, original)) {
          equivalents += 1;
          return;
        }
        expect({ mutated, status: res.status, code: res.body?.error?.code }).toEqual({ mutated, status: 401, code: expect.any(String) });
      }),
      { numRuns: NUM_RUNS },
    );
    expect(equivalents).toBeLessThan(NUM_RUNS / 4);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// (b) arbitrary JSON bodies with a valid token
// ---------------------------------------------------------------------------------------------------------------

const NAMES = ['s3-read-prefix', 's3-write-prefix', 'dynamodb-read-table', 'lambda-update-code', 'logs-read-group', 'ci-deploy'];
const GOOD_PARAMS: Record<string, Record<string, unknown>> = {
  's3-read-prefix': { bucket: 'backend-data', prefix: 'reports/' },
  's3-write-prefix': { bucket: 'backend-data', prefix: 'exports/' },
  'dynamodb-read-table': { table: 'orders' },
  'lambda-update-code': { functionName: 'orders-api' },
  'logs-read-group': { logGroup: '/aws/lambda/orders-api' },
  'ci-deploy': { artifactPrefix: 'builds/', functionName: 'orders-api' },
};
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const EDGE_STRINGS = ['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\u0000', '\ufeff', '\u202e', '\uffff', '\u{10ffff}', '\ud83d\ude00', 'e\u0301', '*', '${aws:username}', '{{bucket}}', '../..', 'x'.repeat(5000)];
const HUGE_NUMBERS = ['1e400', '-1e400', '1e308', '123456789012345678901234567890', '9007199254740993', '-0', '0.0000000000000000000001', '1E+2', '900.0000000000000001', '43200.5'];

/** A JSON text with lone surrogates, prototype keys and huge numbers written as raw text (JSON.stringify would not). */
const rawEdgeBody = fc
  .record({
    template: fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom(...PROTO_KEYS), fc.constantFrom(...EDGE_STRINGS)),
    key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.constantFrom('bucket', 'prefix', 'table', 'template', 'parameters')),
    str: fc.constantFrom(...EDGE_STRINGS),
    num: fc.constantFrom(...HUGE_NUMBERS),
    shape: fc.nat({ max: 5 }),
  })
  .map(({ template, key, str, num, shape }) => {
    const t = JSON.stringify(template);
    const s = JSON.stringify(str);
    const good = Object.hasOwn(GOOD_PARAMS, template) ? GOOD_PARAMS[template] : GOOD_PARAMS['s3-read-prefix'];
    const p = JSON.stringify(good).slice(1, -1);
    switch (shape) {
      case 0: return `{"template":${t},"parameters":{${p},"${key}":${s}}}`;
      case 1: return `{"template":${t},"parameters":{${p}},"durationSeconds":${num}}`;
      case 2: return `{"${key}":{"template":${t}},"template":${t},"parameters":{"${key}":{${p}},${p}}}`;
      case 3: return `{"template":${t},"parameters":{${p}},"sessionDurationSeconds":${num},"delivery":"container"}`;
      case 4: return `[{"template":${t},"parameters":{${p}}}]`;
      default: return `{"template":${t},"parameters":[${s},${num}],"project":${s}}`;
    }
  });

/** Bodies close to a valid vend: a real template, parameters valid or not, other fields valid or not. */
const nearValidBody = fc
  .record(
    {
      template: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }) }),
      parameters: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('bucket', 'prefix', 'table', 'functionName', 'logGroup', ...PROTO_KEYS), fc.oneof(fc.string(), fc.constantFrom(...EDGE_STRINGS))) }),
      project: fc.oneof(fc.constantFrom('backend-api', 'data-pipeline', ''), fc.string({ unit: 'binary', maxLength: 20 })),
      durationSeconds: fc.oneof(fc.constantFrom(900, 3600, 43200, 43201, 899, 0, -1, 1.5), fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
      delivery: fc.oneof(fc.constantFrom('credentials', 'container', 'Container', ''), fc.jsonValue({ maxDepth: 1 })),
      sessionDurationSeconds: fc.oneof(fc.constantFrom(900, 86400, 86401), fc.integer()),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: ['template'] },
  )
  .map((b) => {
    const body: Record<string, unknown> = { ...b };
    if (!('parameters' in b) || b.parameters === undefined) body.parameters = Object.hasOwn(GOOD_PARAMS, b.template) ? GOOD_PARAMS[b.template] : {};
    return JSON.stringify(body);
  });

const body: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...NAMES).map((t) => JSON.stringify({ template: t, parameters: GOOD_PARAMS[t] })) },
  { weight: 5, arbitrary: nearValidBody },
  { weight: 3, arbitrary: rawEdgeBody },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 4, withBoxedValues: false }).map((v) => JSON.stringify(v) ?? '') },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('[', '{"a":'), fc.integer({ min: 100, max: 2000 })).map(([open, n]) => `{"template":"s3-read-prefix","parameters":{"bucket":${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}}}`) },
);

describe('(b) arbitrary bodies with a valid token', () => {
  it('never get a 5xx, and get credentials only with a 200', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await post(stack.app, text);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expectNoServerErrorNorLeak(res, text);
        if (res.status === 200) expect(res.body.credentials).toEqual(expect.objectContaining({ accessKeyId: expect.any(String) }));
      }),
      { numRuns: NUM_RUNS },
    );
    // Not vacuous: valid vends went through and invalid ones were refused.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].some((s) => s >= 400 && s < 500)).toBe(true);
  });

  it('refuses raw bytes that are not UTF-8 (lone surrogates as CESU-8, overlong forms, a BOM) with a 4xx', async () => {
    const prefix = Buffer.from('{"template":"s3-read-prefix","parameters":{"bucket":"backend-data","prefix":"');
    const suffix = Buffer.from('/"}}');
    for (const bad of [[0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xff], [0xfe, 0xff], [0x80]]) {
      const res = await post(stack.app, Buffer.concat([prefix, Buffer.from(bad), suffix]));
      expectNoServerErrorNorLeak(res, `bytes ${bad.join(',')}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const bom = await post(stack.app, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(VALID_BODY))]));
    expectNoServerErrorNorLeak(bom, 'BOM');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// (c) size limit, content types, deep JSON
// ---------------------------------------------------------------------------------------------------------------

describe('(c) size, content type and depth', () => {
  it('answers 413 to a body over the size limit', async () => {
    const limit = stack.config.server.bodyLimitBytes;
    for (const size of [limit + 1, limit * 4, 1_048_576 * 2]) {
      const text = JSON.stringify({ ...VALID_BODY, pad: 'x'.repeat(size) });
      const res = await post(stack.app, text);
      expectNoServerErrorNorLeak(res, `size ${size}`);
      expect({ size, status: res.status, code: res.body.error?.code }).toEqual({ size, status: 413, code: 'payload_too_large' });
    }
  });

  it('answers 415 to a body that is not application/json', async () => {
    const text = JSON.stringify(VALID_BODY);
    const bare = await postWithoutContentType(stack.app, text);
    expect({ status: bare.status, credentials: bare.body.includes('secretAccessKey') }).toEqual({ status: 415, credentials: false });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'text/json', 'application/json-patch+json', 'application/json; charset=latin1', 'application/json; charset=us-ascii', 'application/jsonx', 'json']) {
      const res = await post(stack.app, text, type);
      expectNoServerErrorNorLeak(res, `type ${type}`);
      expect({ type, status: res.status }).toEqual({ type, status: 415 });
    }
  });

  it('refuses any charset but UTF-8 with 415, even a correctly encoded UTF-16 body', async () => {
    const utf16 = Buffer.from(JSON.stringify(VALID_BODY), 'utf16le');
    for (const [type, body] of [
      ['application/json; charset=utf-16', JSON.stringify(VALID_BODY)],
      ['application/json; charset=utf-16be', JSON.stringify(VALID_BODY)],
      ['application/json; charset=utf-32', JSON.stringify(VALID_BODY)],
      ['application/json; charset=utf-16le', utf16],
    ] as Array<[string, string | Buffer]>) {
      const res = await post(stack.app, body, type);
      expectNoServerErrorNorLeak(res, `type ${type}`);
      expect({ type, status: res.status, code: res.body?.error?.code }).toEqual({ type, status: 415, code: 'unsupported_media_type' });
    }
    const utf8 = await post(stack.app, JSON.stringify(VALID_BODY), 'application/json; charset=UTF-8');
    expect(utf8.status).toBe(200);
  });

  it('answers a 4xx to deep JSON and keeps serving', async () => {
    const deep = (open: string, close: string, n: number, inner = '1'): string => open.repeat(n) + inner + close.repeat(n);
    const cases: Array<[TestStack, string, string]> = [
      [stack, '10,000 nested arrays over the 16 KiB limit', deep('[', ']', 10_000)],
      [big, '10,000 nested arrays', deep('[', ']', 10_000)],
      [big, '100,000 nested arrays', deep('[', ']', 100_000)],
      [big, '10,000 nested objects', deep('{"a":', '}', 10_000)],
      [big, '10,000 nested arrays as a parameter', `{"template":"s3-read-prefix","parameters":{"bucket":${deep('[', ']', 10_000)},"prefix":"reports/"}}`],
      [big, '50,000 nested objects as the parameters', `{"template":"s3-read-prefix","parameters":${deep('{"__proto__":', '}', 50_000, '{}')}}`],
      [big, '10,000 nested arrays in an unknown field', `{"template":"s3-read-prefix","parameters":{"bucket":"backend-data","prefix":"reports/"},"x":${deep('[', ']', 10_000)}}`],
      [big, 'unclosed 100,000 nested arrays', '['.repeat(100_000)],
    ];
    for (const [target, what, text] of cases) {
      const res = await post(target.app, text, 'application/json', target === big ? bigToken : token);
      expectNoServerErrorNorLeak(res, what);
      // Past authentication: the refusal is about the body.
      expect({ what, status: res.status }).not.toEqual({ what, status: 401 });
      expect({ what, clientError: res.status >= 400 && res.status < 500 }).toEqual({ what, clientError: true });
    }
    expect((await big.vend(VALID_BODY, bigToken)).status).toBe(200);
    expect((await stack.vend(VALID_BODY, token)).status).toBe(200);
  });
});
