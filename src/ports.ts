/**
 * The capabilities use cases ask for, each named by the module that provides it, never by the composition root:
 * a use case declares the few it needs (`RevokePorts`, `VendPorts`, ...) and `deps.ts` builds one object that
 * has them all. Arrows point one way: routes -> use cases -> these ports <- adapters (docs/architecture.md).
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { ApprovalStore } from './approvals/approval-store';
import type { Identity } from './auth/identity';
import type { Config } from './config-types';
import type { GatewayStore } from './gateway/gateway-store';
import type { Logger } from './observability/logger';
import type { Metrics } from './observability/metrics';
import type { OpenApi } from './openapi';
import type { KillSwitchStore } from './storage/kill-switch-store';
import type { SessionStore } from './storage/session-store';
import type { LoadedTemplate } from './templates/types';
import type { CredentialCache } from './vend/credential-cache';

export interface ClockPort {
  now: () => Date;
}

export interface ObservabilityPort {
  logger: Logger;
  metrics: Metrics;
}

export interface SessionsPort {
  sessions: SessionStore;
}

export interface KillSwitchPort {
  killSwitch: KillSwitchStore;
}

export interface TemplatesPort {
  templates: ReadonlyMap<string, LoadedTemplate>;
}

export interface StsPort {
  sts: STSClient;
}

/** Only for the kill switch's own inline policy; one attempt per call, the reconciler retries. */
export interface IamPort {
  iam: IAMClient;
}

/** Approval requests in Redis (src/approvals/approval-store.ts), one per service. */
export interface ApprovalsPort {
  approvals: ApprovalStore;
}

/** Checks bearer tokens: who is calling. */
export interface VerifierPort {
  verifier: { verify(token: string): Promise<Identity> };
}

/** openapi.yaml's request schemas, compiled once (src/openapi.ts). */
export interface OpenApiPort {
  openapi: OpenApi;
}

/** Current credentials of refreshable sessions, in this process only. */
export interface CredentialCachePort {
  credentialCache: CredentialCache;
}

/** The part of the configuration a use case reads. */
export interface ConfigPort<K extends keyof Config> {
  config: Pick<Config, K>;
}

/** Gateway delivery, when `gateway.enabled` (src/gateway). */
export interface GatewayDeps {
  store: GatewayStore;
  /** The server key agents' gateway secrets derive from (never logged, never stored). */
  key: Buffer;
  /** Where agents reach the gateway: `gateway.publicUrl`, else set once its listener is up. */
  endpointUrl?: string;
  /** Proxy mode, once the listener is up: agents' HTTPS_PROXY and the CA certificate (PEM) they trust. */
  proxy?: { url: string; caBundle: string };
}

export interface GatewayPort {
  gateway?: GatewayDeps;
}
