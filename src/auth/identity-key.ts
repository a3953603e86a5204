import { createHash } from 'node:crypto';
import { isWellFormedText } from '../well-formed';

/**
 * The identity key: the one string that names a person (or a CI job) everywhere the service writes one: the
 * `developer` session tag, blocks, quotas, Redis indexes, the revoke and listing APIs, audit lines and the
 * revocation Deny. It is computed once, from (namespace, raw claim), when a token is verified.
 *
 * Every name comes in one of three shapes, told apart by the characters in it, so two different inputs can
 * never share a name:
 *
 *   plain       `alice@example.com`        the raw claim itself: the namespace is the plain one (""), every
 *                                          character is in the name's alphabet, none is the separator or `=`
 *   namespaced  `github:octocat`           `<namespace><separator><claim>`: a named namespace and a claim
 *                                          that needs no change (a namespace never holds the separator)
 *   hashed      `-@x.com=Q3ZK5W2XDEMJ7NAB` a readable rendering of the claim, `=`, and 16 base32 characters
 *                                          of SHA-256 over namespace and claim: anything else (characters
 *                                          outside the alphabet, `=`, too long, too short)
 *
 * A name with `=` is hashed; one with the separator but no `=` is namespaced; any other is plain. Plain and
 * namespaced names map back to exactly one input; two hashed names are equal only if their 80-bit hashes
 * collide. The same rule, with each field's own alphabet, gives the tag value (IAM-writable, <= 256), the
 * SourceIdentity (2..64 of `[\w+,.@=-]`) and the readable part of the RoleSessionName.
 */

export interface NameRule {
  /** One character class (no brackets): the characters a name may hold, `=` and the separator included. */
  alphabet: string;
  /** Between a namespace and its claim; in the alphabet, never in a namespace. */
  separator: string;
  min: number;
  max: number;
}

/**
 * Tag values that are also legal inside an IAM policy document: the tag alphabet `[\p{L}\p{Z}\p{N}_.:/=+\-@]`
 * cut to IAM's document charset (tab, LF, CR, U+0020-U+00FF; see IAM_DOCUMENT_CHARS), without spaces (they
 * hide at the ends of a value). Latin-1 letters stay, so `josé` is named as it is.
 */
export const KEY_RULE: NameRule = { alphabet: 'A-Za-z0-9_.:/=+@\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u00FF-', separator: ':', min: 1, max: 256 };
/** AssumeRole's SourceIdentity: 2..64 of `[\w+=,.@-]` (`,` is not a tag character, so it separates here). */
export const SOURCE_IDENTITY_RULE: NameRule = { alphabet: 'A-Za-z0-9_+=,.@-', separator: ',', min: 2, max: 64 };
/** The readable part of a RoleSessionName, which then gets `.` and 8 characters of the session id (64 in all). */
export const SESSION_NAME_RULE: NameRule = { ...SOURCE_IDENTITY_RULE, min: 1, max: 55 };

/** A namespace: short, lowercase, and never holding a separator or `=`. "" is the plain namespace. */
export const NAMESPACE = /^(?:[a-z][a-z0-9-]{0,31})?$/;

/** Characters `iam:PutRolePolicy` accepts in a policy document. */
// eslint-disable-next-line no-control-regex -- tab, LF and CR are exactly what IAM allows
export const IAM_DOCUMENT_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]*$/;

const HASH_CHARS = 16;
const HASH_SUFFIX = /=[A-Z2-7]{16}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface Compiled {
  rule: NameRule;
  /** Every character in the alphabet. */
  all: RegExp;
  /** One character outside the alphabet, or `=` (it marks hashed names), or the separator. */
  unsafe: RegExp;
  /** The same, global: for replacing. */
  unsafeAll: RegExp;
}

const compiled = new Map<NameRule, Compiled>();
function compile(rule: NameRule): Compiled {
  let c = compiled.get(rule);
  if (!c) {
    const sep = rule.separator.replace(/[\\\]^-]/g, '\\$&');
    const unsafe = `[^${rule.alphabet}]|[=${sep}]`;
    c = { rule, all: new RegExp(`^[${rule.alphabet}]*$`, 'u'), unsafe: new RegExp(unsafe, 'u'), unsafeAll: new RegExp(unsafe, 'gu') };
    compiled.set(rule, c);
  }
  return c;
}

/** The name of (namespace, claim) under a rule: plain, namespaced or hashed, as the file comment says. */
export function nameFor(namespace: string, claim: string, rule: NameRule): string {
  if (!NAMESPACE.test(namespace)) throw new TypeError(`namespace ${JSON.stringify(namespace)} is not [a-z][a-z0-9-]{0,31}`);
  // Two different lone surrogates would encode alike for the hash; the boundary refuses them, this is the backstop.
  if (!isWellFormedText(claim)) throw new TypeError('claim is not well-formed Unicode');
  const c = compile(rule);
  const clean = claim.length > 0 && !c.unsafe.test(claim);
  if (namespace === '' && clean && claim.length >= rule.min && claim.length <= rule.max) return claim;
  // A namespaced claim may itself hold the separator: the namespace never does, so the first one splits.
  const namespacedClean = claim.length > 0 && c.all.test(claim) && !claim.includes('=');
  if (namespace !== '' && namespacedClean) {
    const name = `${namespace}${rule.separator}${claim}`;
    if (name.length >= rule.min && name.length <= rule.max) return name;
  }
  const readable = readablePart(namespace, claim, c).slice(0, rule.max - HASH_CHARS - 1);
  return `${readable}=${hashOf(namespace, claim)}`;
}

/** Whether `name` has one of the three shapes under `rule` (what an operator may type as a key). */
export function isWellFormedName(name: string, rule: NameRule): boolean {
  const c = compile(rule);
  if (name.length < rule.min || name.length > rule.max || !c.all.test(name)) return false;
  const eq = name.indexOf('=');
  if (eq === -1) {
    const sep = name.indexOf(rule.separator);
    return sep === -1 || (sep > 0 && NAMESPACE.test(name.slice(0, sep)) && sep < name.length - 1);
  }
  return eq === name.length - HASH_CHARS - 1 && HASH_SUFFIX.test(name);
}

/** The developer key of a claim from an issuer of this namespace. */
export const developerKey = (namespace: string, claim: string): string => nameFor(namespace, claim, KEY_RULE);
/** The project tag value: projects have no namespace (templates name them), so only the plain or hashed shape. */
export const projectKey = (project: string): string => (project === '' ? '' : nameFor('', project, KEY_RULE));
export const sourceIdentityFor = (namespace: string, claim: string): string => nameFor(namespace, claim, SOURCE_IDENTITY_RULE);
export const sessionNamePrefix = (namespace: string, claim: string): string => nameFor(namespace, claim, SESSION_NAME_RULE);

/**
 * What a person reading CloudTrail should recognise: the namespace, then the claim with accents stripped and
 * anything else outside the alphabet as `-` (runs collapsed). Uniqueness comes from the hash, not from this.
 */
function readablePart(namespace: string, claim: string, c: Compiled): string {
  const body = claim
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(c.unsafeAll, '-')
    .replace(/-{2,}/g, '-');
  return namespace === '' ? body : `${namespace}${c.rule.separator}${body}`;
}

/** 80 bits of SHA-256 over namespace and claim, base32 (uppercase, so it never reads as a namespace). */
function hashOf(namespace: string, claim: string): string {
  const digest = createHash('sha256').update(`${namespace}\u0000${claim}`, 'utf8').digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < HASH_CHARS) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === HASH_CHARS) break;
  }
  return out;
}
