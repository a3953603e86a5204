import type { IssuerConfig } from '../config-types';
import { authError } from './auth-errors';
import type { Identity } from './identity';
import { developerKey } from './identity-key';

/**
 * Glob match used by bound claims, template allow rules and operator checks: `*` matches any run of
 * characters (including none), every other character is literal, and the whole value must match.
 * Written as a linear scan with one backtrack point rather than a RegExp, so a hostile value or
 * pattern cannot cause catastrophic backtracking.
 */
export function matchGlob(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starV = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (starP !== -1) {
      // Let the last star swallow one more character and retry from there.
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Reads a claim by name. A name that exists as-is wins (namespaced claims such as
 * `https://example.com/groups` contain dots); otherwise a dotted name walks nested objects.
 */
export function getClaim(claims: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Scalar claim values compared as text, so a bound `"true"` matches GitLab's `"true"` and a JSON `true`. */
function claimTexts(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items
    .filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v))
    .map(String);
}

/**
 * Checks the issuer's `boundClaims`: every listed claim must be present and at least one of its
 * values (an array claim has several) must match at least one of the configured patterns.
 * Returns the name of the first claim that fails, or undefined when all hold.
 */
export function findBoundClaimMismatch(
  claims: Record<string, unknown>,
  bound: Record<string, string | string[]> | undefined,
): string | undefined {
  for (const [name, expected] of Object.entries(bound ?? {})) {
    const patterns = Array.isArray(expected) ? expected : [expected];
    const values = claimTexts(getClaim(claims, name));
    if (!values.some((value) => patterns.some((pattern) => matchGlob(pattern, value)))) return name;
  }
  return undefined;
}

function requiredString(claims: Record<string, unknown>, name: string): string {
  const value = getClaim(claims, name);
  if (value === undefined || value === null) throw authError('missing_claim', { claim: name });
  if (typeof value !== 'string' || value.length === 0) throw authError('invalid_claim', { claim: name });
  return value;
}

function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  const value = getClaim(claims, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw authError('invalid_claim', { claim: name });
  return value;
}

function groupList(claims: Record<string, unknown>, name: string): string[] {
  const value = getClaim(claims, name);
  if (value === undefined || value === null) return [];
  // Some IdPs send a single group as a plain string.
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((g) => typeof g === 'string')) throw authError('invalid_claim', { claim: name });
  return [...new Set(items as string[])].filter((g) => g.length > 0);
}

/** A scalar claim as text for the owner: strings as they are, numbers (a GitHub run_id may be one) in decimal. */
function ownerPart(claims: Record<string, unknown>, name: string): string {
  const value = getClaim(claims, name);
  if (value === undefined || value === null) throw authError('missing_claim', { claim: name });
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string' || value.length === 0) throw authError('invalid_claim', { claim: name });
  return value;
}

/**
 * Maps verified claims to an Identity by the issuer's `claims` config: the developer claim is required
 * (missing_claim / invalid_claim otherwise) and becomes the identity key in the issuer's namespace; project and
 * groups are read only when mapped; the owner is `sub`, joined with the `claims.owner` values when configured.
 */
export function mapIdentity(issuer: IssuerConfig, claims: Record<string, unknown>): Identity {
  const mapping = issuer.claims;
  const project = mapping.project === undefined ? undefined : optionalString(claims, mapping.project);
  const subject = requiredString(claims, 'sub');
  const developerClaim = requiredString(claims, mapping.developer);
  const extra = (mapping.owner ?? []).filter((c) => c !== 'sub').map((c) => `${c}=${ownerPart(claims, c)}`);
  return {
    issuer: issuer.name,
    iss: requiredString(claims, 'iss'),
    subject,
    developer: developerKey(issuer.namespace, developerClaim),
    developerClaim,
    namespace: issuer.namespace,
    // JSON keeps the parts apart whatever characters they hold.
    owner: extra.length === 0 ? subject : JSON.stringify([subject, ...extra]),
    ...(project !== undefined ? { project } : {}),
    groups: mapping.groups === undefined ? [] : groupList(claims, mapping.groups),
    accessType: issuer.accessType,
    claims,
  };
}
