import { ConfigError, parseConfig } from '../../src/config';

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
