/**
 * Measurement 5, bearer token verification: verifications per second through the service's own verifier
 * (createTokenVerifier, pinned issuer, remote JWKS fetched once and then cached) for RS256 and ES256, the same
 * token again and again (answered from the verifier's memory of verified tokens after the first), and distinct
 * tokens, each verified once (as many agents would present them: the signature check every time).
 */
import { createTokenVerifier } from '../src/auth/verify-token';
import type { DevIssuer } from '../src/dev/dev-issuer';
import { agentClaims } from './world';

// Each measured loop lasts about a second or more on this machine.
const SAME_TOKEN_VERIFICATIONS = 8000;
const DISTINCT_TOKENS = 3000;
const WARM_UP = 500;

export interface VerifyResult {
  alg: 'RS256' | 'ES256';
  tokens: 'same' | 'distinct';
  verifications: number;
  perSecond: number;
  meanUs: number;
}

/** Verifications per second by algorithm, same token and distinct tokens, sequentially on this event loop. */
export async function measureTokenVerification(issuer: DevIssuer, log: (line: string) => void): Promise<VerifyResult[]> {
  const verifier = createTokenVerifier([
    {
      name: 'corp',
      issuer: issuer.issuer,
      audiences: ['sts-vend'],
      algorithms: ['RS256', 'ES256'],
      accessType: 'AI',
      namespace: '',
      maxTokenLifetimeSeconds: 86400,
      claims: { developer: 'email', project: 'project', groups: 'groups' },
      clockToleranceSeconds: 30,
    },
  ]);
  const results: VerifyResult[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const distinct = await Promise.all(Array.from({ length: DISTINCT_TOKENS }, (_x, i) => issuer.mint(agentClaims(i), { alg, expiresInSeconds: 3600 })));
    const same = distinct[0]!;
    // The first verification fetches discovery and the JWKS; the warm-up (tokens of its own, so none of the
    // measured ones is remembered) lets V8 optimise the path.
    const warm = await Promise.all(Array.from({ length: WARM_UP }, (_x, i) => issuer.mint(agentClaims(DISTINCT_TOKENS + i), { alg, expiresInSeconds: 3600 })));
    for (const token of warm) await verifier.verify(token);
    for (const [kind, count, tokenOf] of [
      ['distinct', DISTINCT_TOKENS, (i: number) => distinct[i]!],
      ['same', SAME_TOKEN_VERIFICATIONS, () => same],
    ] as const) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) await verifier.verify(tokenOf(i));
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      results.push({ alg, tokens: kind, verifications: count, perSecond: count / seconds, meanUs: (seconds / count) * 1e6 });
      log(`  ${alg} ${kind} token${kind === 'same' ? '' : 's'}: ${(count / seconds).toFixed(0)} verifications/s`);
    }
  }
  return results;
}
