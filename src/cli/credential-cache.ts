import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VendResponse } from '../client/types';
import { CliError } from './context';

/**
 * The private cache of `sts-vend credentials`: one file per (service, vend request, caller),
 * holding the last vend answer (with its container URL and token) so a later run can reuse the credential or
 * refresh it through the session instead of vending again. The files hold secrets: mode 0600 in a 0700
 * directory owned by the user, written atomically so a concurrent reader never sees half a file.
 */

export interface CacheEntry {
  version: 1;
  /** The vend answer, its credentials replaced on each refresh; `container` is present (container delivery). */
  response: VendResponse;
}

export interface CacheKeyInput {
  url: string;
  /** The whole vend request: template, parameters, project, durations, delivery. */
  request: object;
  /** Who the OIDC token names (issuer and subject), not the token: tokens rotate, callers do not. */
  subject: string;
}

/** The default directory: $XDG_CACHE_HOME/sts-vend, else ~/.cache/sts-vend. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sts-vend');
}

export function cacheKey(k: CacheKeyInput): string {
  const canonical = JSON.stringify([k.url, sortKeys(k.request), k.subject]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The token's `iss` and `sub`, read without verifying (the service verifies; this only separates callers).
 * A token that is not a JWT is keyed by its hash, so nothing secret reaches the file name.
 */
export function tokenSubject(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown; sub?: unknown };
    if (typeof payload.sub === 'string') return `${String(payload.iss)} ${payload.sub}`;
  } catch {
    // fall through
  }
  return `token-sha256:${createHash('sha256').update(token).digest('hex')}`;
}

export class CredentialCache {
  constructor(private readonly dir: string) {}

  /** The entry, or undefined when absent, unreadable, or not private to this user (then it is not trusted). */
  read(key: string): CacheEntry | undefined {
    const file = this.file(key);
    try {
      const st = lstatSync(file);
      if (!st.isFile() || (st.mode & 0o077) !== 0 || (process.getuid && st.uid !== process.getuid())) return undefined;
      const entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
      return entry.version === 1 && entry.response?.container && entry.response.credentials ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  write(key: string, entry: CacheEntry): void {
    this.ensureDir();
    const file = this.file(key);
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new CliError('cache_unwritable', `cannot write the credential cache in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  remove(key: string): void {
    rmSync(this.file(key), { force: true });
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /** Creates the directory 0700, or refuses one that is a symlink or someone else's; tightens a loose mode. */
  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(this.dir);
    if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) {
      throw new CliError('cache_unsafe', `${this.dir} is not a directory owned by this user; not caching credentials there`);
    }
    if ((st.mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
