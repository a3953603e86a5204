/**
 * The emulator's policy engine: what AWS would decide for a request made by a role session, and whether a role's
 * trust policy lets a caller assume it. Documents are expected to have passed `validatePolicy` already.
 */
export type { ContextValue, Decision, RequestContext } from './context';
export { evaluateRequest, evaluateTrust, type Request } from './evaluate';
export { principalMatches, type Caller } from './principals';
