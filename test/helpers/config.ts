import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';

/** The templates the service ships, which the test services load. */
export const TEMPLATES_DIR = path.resolve(__dirname, '../../policies/templates');

/** The one issuer a config needs to parse: a corp IdP naming developers by `email`. */
export const TEST_ISSUER = { name: 'corp', issuer: 'https://idp.example.com', audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'AI', claims: { developer: 'email' } };

/** The smallest raw config that parses: a region and TEST_ISSUER. */
export const MINIMAL_CONFIG = { aws: { region: 'us-east-1' }, issuers: [TEST_ISSUER] };

/**
 * The raw config of a service the tests run (in-process or as a process of its own): Redis, the two dev issuers
 * (corp for agents: email, project and groups claims; ci for CI jobs: actor and repository), operators in
 * group secops, the shipped templates. Callers spread their own `server`, `aws`, `limits`, ... over it.
 */
export function serviceConfig(parts: { redis: { url: string; keyPrefix: string }; corp: { issuer: string }; ci: { issuer: string } }): Record<string, unknown> {
  return {
    server: { port: 0 },
    redis: { url: parts.redis.url, keyPrefix: parts.redis.keyPrefix },
    aws: { region: 'us-east-1' },
    issuers: [
      { name: 'corp', issuer: parts.corp.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'AI', namespace: '', claims: { developer: 'email', project: 'project', groups: 'groups' } },
      { name: 'ci', issuer: parts.ci.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'CI', claims: { developer: 'actor', project: 'repository' } },
    ],
    operators: { groups: ['secops'] },
    templatesDir: TEMPLATES_DIR,
  };
}

/** Every problem parseConfig lists for a raw config (and environment), or [] when it is valid. */
export function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
