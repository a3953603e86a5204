import type { Identity } from '../auth/identity';
import type { ConfigPort, KillSwitchPort, ObservabilityPort } from '../ports';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import { storeCall } from '../storage/store-call';
import type { RevocationRecord } from '../storage/kill-switch-store';
import { policyBefore } from './revocation-entries';

/** What lifting a block uses: the kill-switch store and its skew margin. */
export type LiftBlockPorts = KillSwitchPort & ObservabilityPort & ConfigPort<'killSwitch'>;

/**
 * Lifts the block a revocation set, before it runs out. The block shrinks to the revocation's own cut-off if
 * that is still ahead: credentials issued before it would be denied in AWS anyway. Audited.
 */
export async function liftBlock(deps: LiftBlockPorts, actor: Pick<Identity, 'issuer' | 'subject' | 'developer'>, id: string, requestId: string): Promise<RevocationRecord> {
  const existing = await storeCall(deps, 'revocations.get', () => deps.killSwitch.getRevocation(id));
  if (!existing) throw new ApiError(404, 'revocation_not_found', 'no such revocation');
  if (!existing.blockedUntil) throw new ApiError(409, 'no_block', 'this revocation set no block');
  const cutoff = new Date(policyBefore(new Date(Date.parse(existing.createdAt) + deps.config.killSwitch.marginSeconds * 1000).toISOString()));
  const rec = await storeCall(deps, 'revocations.lift', () => deps.killSwitch.liftBlock(id, cutoff));
  audit(deps.logger, {
    event: 'block.lift',
    outcome: 'applied',
    requestId,
    issuer: actor.issuer,
    subject: actor.subject,
    developer: actor.developer,
    revocationId: id,
    // What the block covered, so the line reads on its own without the revocation's record.
    selector: existing.selector,
  });
  return rec ?? existing;
}
