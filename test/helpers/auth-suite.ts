import request from 'supertest';
import { unsignedToken } from './test-issuer';
import type { TestStack } from './stack';

export interface ProtectedRoute {
  method: 'get' | 'post' | 'delete';
  path: string;
  body?: Record<string, unknown>;
}

/**
 * The checks every protected route must pass : each refused token is a 401 with its code,
 * and the answer carries no credentials and does not echo the token.
 */
export function runCommonAuthTests(getStack: () => TestStack, routes: ProtectedRoute[]): void {
  const cases: Array<[string, (s: TestStack) => Promise<string | undefined>, string]> = [
    ['no Authorization header', async () => undefined, 'missing_token'],
    ['a non-bearer scheme', async (s) => `Basic ${await s.token()}`, 'malformed_token'],
    ['garbage', async () => 'Bearer not.a.jwt', 'malformed_token'],
    ['alg none', async (s) => `Bearer ${unsignedToken({ iss: s.corp.issuer, aud: 'sts-vend', sub: 'x', email: 'a@b.c', exp: 9999999999 })}`, 'unsupported_algorithm'],
    ['an expired token', async (s) => `Bearer ${await s.corp.mint({ email: 'alice@example.com' }, { expiresInSeconds: -3600 })}`, 'token_expired'],
    ['another audience', async (s) => `Bearer ${await s.corp.mint({ email: 'alice@example.com' }, { audience: 'someone-else' })}`, 'invalid_audience'],
  ];
  for (const route of routes) {
    describe(`${route.method.toUpperCase()} ${route.path} authentication`, () => {
      it.each(cases)('refuses %s', async (_name, header, code) => {
        const stack = getStack();
        const value = await header(stack);
        let req = request(stack.app)[route.method](route.path);
        if (value !== undefined) req = req.set('Authorization', value);
        const res = route.body ? await req.send(route.body) : await req;
        expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 401, code });
        expect(res.body.credentials).toBeUndefined();
        if (value) expect(JSON.stringify(res.body)).not.toContain(value.split(' ')[1]);
      });
    });
  }
}
