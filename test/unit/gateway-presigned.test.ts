/**
 * Presigned queries as the gateway reads them: each parameter once and well formed (or a refusal naming it),
 * the validity window, and what goes upstream (no presign parameter; hoisted x-amz-* back as headers).
 */
import { GatewayRefusal } from '../../src/gateway/aws-errors';
import { checkPresignedWindow, isPresigned, parsePresigned, upstreamOfPresigned } from '../../src/gateway/presigned';

const good = {
  'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
  'X-Amz-Credential': 'SVGWabcdefghijkl/20261202/us-east-1/s3/aws4_request',
  'X-Amz-Date': '20261202T010000Z',
  'X-Amz-Expires': '900',
  'X-Amz-SignedHeaders': 'host',
  'X-Amz-Signature': 'a'.repeat(64),
};
const qs = (q: Record<string, string>, extra = ''): string => new URLSearchParams(q).toString() + extra;
const refusal = (f: () => unknown): { kind: string; message: string } | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof GatewayRefusal) return { kind: err.kind, message: err.message };
    throw err;
  }
  return undefined;
};

describe('presigned queries', () => {
  it('reads the parts of a well-formed query', () => {
    expect(isPresigned(qs(good))).toBe(true);
    expect(isPresigned('list-type=2&prefix=a')).toBe(false);
    expect(parsePresigned(qs(good))).toMatchObject({ accessKeyId: 'SVGWabcdefghijkl', region: 'us-east-1', service: 's3', signedHeaders: ['host'], expiresSeconds: 900, signingDate: new Date('2026-12-02T01:00:00Z') });
  });

  it.each<[string, Record<string, string>, string, string, RegExp]>([
    ['no X-Amz-Date', { 'X-Amz-Date': '' }, 'drop', 'presignMalformed', /X-Amz-Date is missing/],
    ['a date on another day than the credential', { 'X-Amz-Date': '20261203T010000Z' }, 'set', 'presignMalformed', /on the date of X-Amz-Credential/],
    ['a lifetime over a week', { 'X-Amz-Expires': '604801' }, 'set', 'presignMalformed', /less than a week/],
    ['a lifetime with a leading zero', { 'X-Amz-Expires': '0900' }, 'set', 'presignMalformed', /whole number/],
    ['a negative lifetime', { 'X-Amz-Expires': '-1' }, 'set', 'presignMalformed', /whole number/],
    ['another algorithm', { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA512' }, 'set', 'presignMalformed', /only supports "AWS4-HMAC-SHA256"/],
    ['SigV4A', { 'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256' }, 'set', 'unsupported', /SigV4A .* is not supported by this gateway: it verifies and re-signs SigV4/],
    ['signed headers without host', { 'X-Amz-SignedHeaders': 'x-amz-date' }, 'set', 'presignMalformed', /host/],
    ['a short signature', { 'X-Amz-Signature': 'abc' }, 'set', 'presignMalformed', /64 lower-case hex/],
    ['a credential without its scope', { 'X-Amz-Credential': 'SVGWabcdefghijkl' }, 'set', 'presignMalformed', /aws4_request/],
  ])('refuses %s, naming the parameter', (_name, change, how, kind, message) => {
    const q: Record<string, string> = { ...good };
    for (const [k, v] of Object.entries(change)) {
      if (how === 'drop') delete q[k];
      else q[k] = v;
    }
    const r = refusal(() => parsePresigned(qs(q)));
    expect(r?.kind).toBe(kind);
    expect(r?.message).toMatch(message);
  });

  it('refuses a parameter given twice or spelt in another case', () => {
    expect(refusal(() => parsePresigned(qs(good, '&X-Amz-Expires=60')))?.message).toMatch(/X-Amz-Expires must be given once/);
    expect(refusal(() => parsePresigned(qs(good, '&x-amz-expires=60')))?.message).toMatch(/must be spelt X-Amz-Expires/);
  });

  it('is valid from its date (give or take the clock skew allowed) until date + expires', () => {
    const p = parsePresigned(qs(good));
    const at = (iso: string) => refusal(() => checkPresignedWindow(p, new Date(iso)))?.message;
    expect(at('2026-12-02T00:56:00Z')).toBeUndefined();
    expect(at('2026-12-02T00:54:59Z')).toBe('Request is not valid yet');
    expect(at('2026-12-02T01:15:00Z')).toBeUndefined();
    expect(at('2026-12-02T01:15:01Z')).toBe('Request has expired');
  });

  it('sends upstream neither presign parameter nor token, and hoisted x-amz-* as headers', () => {
    const raw = `${qs(good)}&X-Amz-Security-Token=t&versionId=3&x-amz-acl=private&x-id=GetObject&response-content-type=text%2Fplain`;
    expect(upstreamOfPresigned(raw)).toEqual({ rawQuery: 'versionId=3&x-id=GetObject&response-content-type=text%2Fplain', headers: { 'x-amz-acl': 'private' } });
  });
});
