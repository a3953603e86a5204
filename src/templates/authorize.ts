/**
 * Step 2 of a vend (README, "How a vend works"): may this identity use this template, and for which project? Default deny: every
 * dimension `allow` lists must match; a dimension it leaves out does not restrict.
 */
import type { Identity } from '../auth/identity';
import { findBoundClaimMismatch, matchGlob } from '../auth/claims';
import { ApiError } from '../errors';
import type { LoadedTemplate } from './types';

/** The project tag of a vend when neither the token nor the request names one and the template does not ask. */
export const NO_PROJECT = 'none';

/** Identity dimensions only: issuer, groups, subjects, developers, claims. */
function identityMatches(template: LoadedTemplate, identity: Identity): boolean {
  const { issuers, groups, subjects, developers, claims } = template.allow;
  if (!issuers.includes(identity.issuer)) return false;
  if (groups && !groups.some((g) => identity.groups.includes(g))) return false;
  if (subjects && !subjects.some((glob) => matchGlob(glob, identity.subject))) return false;
  if (developers && !developers.some((glob) => matchGlob(glob, identity.developer))) return false;
  // Same semantics as an issuer's boundClaims: each listed claim present, some value matching some glob.
  if (claims && findBoundClaimMismatch(identity.claims, claims) !== undefined) return false;
  return true;
}

/**
 * Whether the identity may use the template at all (for listing the caller's templates): the identity dimensions
 * match, and a project from the token is one `allow.projects` lists.
 */
export function allows(template: LoadedTemplate, identity: Identity): boolean {
  if (!identityMatches(template, identity)) return false;
  const projects = template.allow.projects;
  return identity.project === undefined || !projects || projects.includes(identity.project);
}

const forbidden = (template: LoadedTemplate): ApiError =>
  new ApiError(403, 'template_forbidden', `not allowed to use template "${template.name}"`);

/**
 * Authorizes a vend and settles its project tag:
 * - the token names a project: that project; a different requested project is 403 `project_mismatch`, and one
 *   `allow.projects` does not list is 403 `template_forbidden`;
 * - otherwise a requested project is accepted only where `allow.projects` lists it (else 403 `project_not_allowed`);
 * - otherwise, when `allow.projects` is set, 400 `project_required`; when it is not, the project is `none`.
 * A refused identity gets 403 `template_forbidden` naming only the template, never which rule failed.
 */
export function authorizeTemplate(template: LoadedTemplate, identity: Identity, requestedProject?: string): { project: string } {
  if (!identityMatches(template, identity)) throw forbidden(template);
  const projects = template.allow.projects;
  if (identity.project !== undefined) {
    if (requestedProject !== undefined && requestedProject !== identity.project) {
      throw new ApiError(403, 'project_mismatch', 'the requested project differs from the project in the token', { details: { field: 'project' } });
    }
    if (projects && !projects.includes(identity.project)) throw forbidden(template);
    return { project: identity.project };
  }
  if (requestedProject !== undefined) {
    if (!projects?.includes(requestedProject)) {
      throw new ApiError(403, 'project_not_allowed', `project "${requestedProject}" is not allowed for template "${template.name}"`, {
        details: { field: 'project' },
      });
    }
    return { project: requestedProject };
  }
  if (projects) {
    throw new ApiError(400, 'project_required', `template "${template.name}" needs a project; pass one of: ${projects.join(', ')}`, {
      details: { field: 'project' },
    });
  }
  return { project: NO_PROJECT };
}
