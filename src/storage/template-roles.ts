import type { Cluster, Redis } from 'ioredis';
import type { SessionKeys } from './keys';
import type { BatchCommand } from './redis-client';
import { defineScripts } from './session-scripts';

/**
 * The role each template's records leave out (session-record.ts): P{T} in Redis, template -> role ARN, and this
 * process's copy of it. A template's first vend records its role there (HSETNX: the first role stays, so a
 * template later moved to another role cannot change what older records mean; its new sessions simply store
 * their role). Entries are never removed or changed, so the copy is never stale, only incomplete: a record of a
 * template the copy lacks is decoded after reloading it. One instance per client and key prefix, shared by every
 * store that decodes records.
 */
export class TemplateRoles {
  private readonly roles = new Map<string, string>();
  /** When this process last wrote each known template's role again. */
  private readonly rewritten = new Map<string, number>();
  /** Templates a reload did not find, and when. */
  private readonly missing = new Map<string, number>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: SessionKeys,
  ) {
    defineScripts(redis);
  }

  /** The role records of this template leave out, if this process knows it. */
  readonly roleOf = (template: string): string | undefined => this.roles.get(template);

  /**
   * The command that records a template's role: when the copy lacks it, the script that also answers the whole
   * hash; when it has it, a plain HSETNX at most every REWRITE_MS per template (none in between). The records a
   * vend writes leave their role out on the strength of that hash, so a hash lost to a failover (Redis replicates
   * asynchronously) is written again within REWRITE_MS by the next vend of each template, instead of leaving
   * every later record without a role; in between, other replicas decode those records after the rewrite.
   */
  registerCommand(template: string, roleArn: string, nowMs: number): BatchCommand | undefined {
    const known = this.roles.get(template);
    if (nowMs - (this.rewritten.get(template) ?? -Infinity) < REWRITE_MS) return undefined;
    this.rewritten.set(template, nowMs);
    return known === undefined ? ['svTemplateRoles', this.keys.templateRoles, template, roleArn] : ['hsetnx', this.keys.templateRoles, template, known];
  }

  /** Takes in a reply of registerCommand or of HGETALL (a flat field/value array or an object). */
  absorb(reply: unknown): void {
    const pairs = Array.isArray(reply) ? reply : Object.entries((reply ?? {}) as Record<string, string>).flat();
    for (let i = 0; i + 1 < pairs.length; i += 2) this.roles.set(String(pairs[i]), String(pairs[i + 1]));
  }

  /**
   * Reloads the copy when it lacks one of these templates (one round trip, then not again for them). A template
   * still missing is looked for again only after RETRY_MS: records that derive their role always name a template
   * recorded before them, so a miss means a record that stores its role, or the previous format.
   */
  async ensure(templates: Iterable<string>): Promise<void> {
    const now = Date.now();
    const wanted = [...templates].filter((t) => !this.roles.has(t) && now - (this.missing.get(t) ?? -Infinity) >= RETRY_MS);
    if (wanted.length === 0) return;
    this.absorb(await this.redis.hgetall(this.keys.templateRoles));
    for (const t of wanted) if (!this.roles.has(t)) this.missing.set(t, now);
  }
}

const RETRY_MS = 10_000;
const REWRITE_MS = 10_000;

const shared = new WeakMap<object, Map<string, TemplateRoles>>();

/** The TemplateRoles of this client and key prefix. */
export function templateRolesFor(redis: Redis | Cluster, keys: SessionKeys): TemplateRoles {
  const byKey = shared.get(redis) ?? new Map<string, TemplateRoles>();
  shared.set(redis, byKey);
  const key = keys.templateRoles;
  let roles = byKey.get(key);
  if (!roles) byKey.set(key, (roles = new TemplateRoles(redis, keys)));
  return roles;
}
