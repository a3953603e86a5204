/** Who is calling, after the token was verified and its claims mapped by the issuer's `claims` config. */
export interface Identity {
  /** The configured issuer's `name` (referenced by templates' allow.issuers). */
  issuer: string;
  /** The token's `iss`. */
  iss: string;
  /** The token's `sub`. */
  subject: string;
  /**
   * The identity key (src/auth/identity-key.ts): who the session is for, as every tag, block, quota, index,
   * listing and audit line names them. Injective over (namespace, claim) and legal in AWS by construction.
   */
  developer: string;
  /** The raw developer claim the key was made from (shown beside it; never written into AWS). */
  developerClaim: string;
  /** The issuer's namespace ("" for the plain one). */
  namespace: string;
  /** Who owns the sessions this caller vends: `sub`, or `sub` and the issuer's `claims.owner` values. */
  owner: string;
  /** Project from the token, when the issuer maps one (raw; the vend turns it into the project key). */
  project?: string;
  groups: string[];
  /** Session tag AccessType: AI for agent issuers, CI for CI issuers. */
  accessType: string;
  /** All verified claims (for allow rules with claim globs). Never logged whole. */
  claims: Record<string, unknown>;
}
