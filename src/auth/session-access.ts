import type { Config } from '../config-types';
import type { SessionRecord } from '../storage/session-store';
import type { Identity } from './identity';
import { isOperator } from './operator';

/** The caller vended it: same issuer and same owner (the subject, or the subject and the issuer's owner claims). */
export function ownedBy(session: Pick<SessionRecord, 'issuer' | 'owner'>, identity: Pick<Identity, 'issuer' | 'owner'>): boolean {
  return session.issuer === identity.issuer && session.owner === identity.owner;
}

/** Who may read a session (and its calls): its owner or an operator. Anyone else is told it does not exist. */
export function maySeeSession(session: Pick<SessionRecord, 'issuer' | 'owner'>, identity: Identity, operators: Config['operators']): boolean {
  return ownedBy(session, identity) || isOperator(identity, operators);
}
