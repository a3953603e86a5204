import type { IssuerConfig } from '../config-types';
import { ApiError } from '../errors';
import { developerKey, isWellFormedName, KEY_RULE, projectKey } from './identity-key';

/** How an operator names a developer: the key (as CloudTrail, tags and listings show it), or issuer + raw claim. */
export type DeveloperName = string | { issuer: string; claim: string };

/**
 * The identity key an operator means. A string must be a key as the service writes them (plain, namespaced or
 * hashed); `{issuer, claim}` names the raw claim of a configured issuer (its `name` or its `iss` URL) and is
 * turned into that issuer's key, so both spellings of one person resolve to the same key.
 */
export function resolveDeveloper(issuers: IssuerConfig[], name: DeveloperName, field: string): string {
  if (typeof name === 'string') {
    if (!isWellFormedName(name, KEY_RULE)) {
      throw new ApiError(400, 'invalid_developer', `${field}: not a developer key as the service writes them; name a raw claim as {"issuer", "claim"}`, {
        details: { field },
      });
    }
    return name;
  }
  const issuer = issuers.find((i) => i.name === name.issuer || i.issuer === name.issuer);
  if (!issuer) throw new ApiError(400, 'invalid_request', `${field}.issuer: no configured issuer is named "${name.issuer}"`, { details: { field: `${field}.issuer` } });
  return developerKey(issuer.namespace, name.claim);
}

/** The project key an operator means: a project key as it is, anything else as a raw project name. */
export function resolveProject(name: string): string {
  return isWellFormedName(name, KEY_RULE) && !isNamespaced(name) ? name : projectKey(name);
}

// Projects have no namespace: a name in the namespaced shape is a raw name that the key rule hashes.
const isNamespaced = (name: string): boolean => !name.includes('=') && name.includes(KEY_RULE.separator);
