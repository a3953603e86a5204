import { extractBearerToken } from '../../src/auth/bearer';

describe('extractBearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc.def.ghi', 'abc.def.ghi'],
    ['Bearer   abc.def.ghi  ', 'abc.def.ghi'],
    ['Bearer abc-_.~+/def==', 'abc-_.~+/def=='],
  ])('%j -> %j', (header, token) => {
    expect(extractBearerToken(header)).toBe(token);
  });

  it.each([
    [undefined, 'missing_token'],
    ['', 'missing_token'],
    ['   ', 'missing_token'],
    ['Bearer', 'missing_token'],
    ['Bearer ', 'missing_token'],
    ['Basic dXNlcjpwYXNz', 'malformed_token'],
    ['Bearer a.b.c d.e.f', 'malformed_token'],
    ['Bearer a.b.c extra', 'malformed_token'],
    ['abc.def.ghi', 'malformed_token'],
    ['Bearer\tabc.def.ghi', 'malformed_token'],
    ['Bearer abc"def', 'malformed_token'],
    ['Bearer a=b', 'malformed_token'],
    ['Bearerabc.def.ghi', 'malformed_token'],
  ])('%j -> %s', (header, code) => {
    expect(() => extractBearerToken(header)).toThrow(expect.objectContaining({ status: 401, code }));
  });

  it('never echoes the header in the message', () => {
    try {
      extractBearerToken('Basic c2VjcmV0LXBhc3N3b3Jk');
    } catch (err) {
      expect((err as Error).message).not.toContain('c2VjcmV0LXBhc3N3b3Jk');
    }
    expect.assertions(1);
  });
});
