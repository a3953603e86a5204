/** Who is calling, after the token was verified and its claims mapped by the issuer's `claims` config. */
export interface Identity {
  /** The configured issuer's `name` (referenced by templates' allow.issuers). */
  issuer: string;
  /** The token's `iss`. */
  iss: string;
  /** The token's `sub`. */
  subject: string;
  /** Who the session is for: the mapped developer claim (e.g. email, or the CI actor/repository). */
  developer: string;
  /** Project from the token, when the issuer maps one. */
  project?: string;
  groups: string[];
  /** Session tag AccessType: AI for agent issuers, CI for CI issuers. */
  accessType: string;
  /** All verified claims (for allow rules with claim globs). Never logged whole. */
  claims: Record<string, unknown>;
}
