// The API's shapes come from openapi.yaml through the generated openapi-types.ts (types only: the client loads
// none of the server's code, and the package needs no schema tooling at run time). What is written here by hand
// only narrows them where the schema says it in words (`oneOf` of credentials and gateway) or adds client-side
// options; test/unit/openapi-types.test.ts keeps the generated file equal to openapi.yaml.
import type { components, operations } from './openapi-types';

type Schemas = components['schemas'];
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** POST /v1/vend's body: a template, its parameters, and how the credentials are delivered. */
export type VendRequest = Schemas['VendRequest'];

/** How the vend answers: the credentials alone, a container-credentials URL and token to refresh through, or the gateway. */
export type Delivery = NonNullable<VendRequest['delivery']>;

/** An approval request (POST /v1/vend answers one with 202 for a template that requires approval). */
export type Approval = Schemas['Approval'];

/** How a vend waits for a decision when the template requires approval. */
export interface ApprovalWait {
  /** Called when the request is made and then on every poll, to show progress. */
  onProgress(approval: Approval, waitedMs: number): void;
  /** Poll interval (default 2000 ms). */
  pollMs?: number;
}

type VendAnswer = Schemas['VendResponse'];

/** AWS credentials as a vend answers them (`expiration` an ISO 8601 instant). */
export type VendCredentials = NonNullable<VendAnswer['credentials']>;

/**
 * The answer to a vend with `credentials` or `container` delivery. `container` is present for container
 * delivery: GET `url` with header `Authorization: <authorizationToken>`.
 */
export type VendResponse = Omit<VendAnswer, 'credentials' | 'gateway'> & { credentials: VendCredentials };

/** Gateway credentials: valid only at the gateway, which signs the agent's AWS calls with credentials it never sees. */
export type GatewayCredentials = NonNullable<VendAnswer['gateway']>;

/** The answer to a vend with `delivery: "gateway"`: no AWS credential at all. */
export type GatewayVendResponse = Omit<VendAnswer, 'credentials' | 'container'> & { gateway: GatewayCredentials };

/**
 * The container-credentials shape the AWS SDKs read (note `Token`, not `SessionToken`). `Expiration` is when to
 * ask again (at most a minute ahead, see reported-expiration.ts); `CredentialExpiration` when the credential expires.
 */
export type ContainerCredentials = Json<operations['containerCredentials']['responses'][200]>;

/** A session as the API shows it (the service's own record minus the token hash); never a secret. */
export type Session = Schemas['Session'];

export type SessionState = Session['state'];

/**
 * GET /v1/sessions's filters: the developer key, or `issuer` (a configured issuer's name or `iss`) with the raw
 * `claim`; a project key or raw name; template, role, state; and the page.
 */
export type SessionFilters = NonNullable<operations['listSessions']['parameters']['query']>;

export type SessionPage = Json<operations['listSessions']['responses'][200]>;

/** Exactly one selector plus a reason; `block` also refuses new vends in that scope for a while. */
export type RevokeRequest = Schemas['RevokeRequest'];

export type Revocation = Schemas['Revocation'];

/** A revocation and whether AWS enforcement is still pending for some role (the service answered 202). */
export interface RevokeResult {
  revocation: Revocation;
  pending: boolean;
}

export type RevocationPage = Json<operations['listRevocations']['responses'][200]>;
