import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the service exports, on its own registry (tests build one per app). Labels never carry secrets or identities. */
export interface Metrics {
  registry: Registry;
  vendTotal: Counter<'template' | 'outcome'>;
  vendDuration: Histogram<'outcome'>;
  stsDuration: Histogram<'outcome'>;
  stsErrors: Counter<'code'>;
  stsRetries: Counter;
  redisErrors: Counter<'op'>;
  authFailures: Counter<'code'>;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  revocations: Counter<'selector' | 'outcome'>;
  revocationApplySeconds: Histogram;
  pendingRoles: Gauge;
  /** Gateway calls; `operation` only takes names the gateway identified, capped (gateway-metrics.ts). */
  gatewayCalls: Counter<'service' | 'operation' | 'outcome'>;
  gatewayDuration: Histogram<'service' | 'outcome'>;
  /** Proxy mode: CONNECTs and absolute-form requests by what became of them (terminated, tunnelled, refused). */
  gatewayProxyConnections: Counter<'outcome'>;
  /** Proxy mode: host certificates minted (a host's first connection, then once per renewal). */
  gatewayProxyCerts: Counter;
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'sts_vend_' });
  const registers = [registry];
  return {
    registry,
    vendTotal: new Counter({ name: 'sts_vend_vend_total', help: 'Vend decisions by template and outcome', labelNames: ['template', 'outcome'], registers }),
    vendDuration: new Histogram({ name: 'sts_vend_vend_duration_seconds', help: 'Whole vend, from authenticated request to answer', labelNames: ['outcome'], buckets: latencyBuckets, registers }),
    stsDuration: new Histogram({ name: 'sts_vend_sts_assume_role_duration_seconds', help: 'The sts:AssumeRole call alone, SDK retries included', labelNames: ['outcome'], buckets: latencyBuckets, registers }),
    stsErrors: new Counter({ name: 'sts_vend_sts_errors_total', help: 'AWS STS calls that failed after the SDK retries, by AWS error code', labelNames: ['code'], registers }),
    stsRetries: new Counter({ name: 'sts_vend_sts_retries_total', help: 'Extra STS attempts the SDK made (throttling, transient errors)', registers }),
    redisErrors: new Counter({ name: 'sts_vend_redis_errors_total', help: 'Redis operations that failed', labelNames: ['op'], registers }),
    authFailures: new Counter({ name: 'sts_vend_auth_failures_total', help: 'Refused bearer tokens by error code', labelNames: ['code'], registers }),
    httpRequests: new Counter({ name: 'sts_vend_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['route', 'method', 'status'], registers }),
    revocations: new Counter({ name: 'sts_vend_revocations_total', help: 'Revocations by selector and outcome', labelNames: ['selector', 'outcome'], registers }),
    revocationApplySeconds: new Histogram({ name: 'sts_vend_revocation_apply_seconds', help: 'Time from revocation to AWS enforcement written', buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900], registers }),
    pendingRoles: new Gauge({ name: 'sts_vend_revocation_pending_roles', help: 'Roles whose revocation policy is not yet written', registers }),
    gatewayCalls: new Counter({ name: 'sts_vend_gateway_calls_total', help: 'Gateway calls by service, operation and outcome (forwarded or the refusal)', labelNames: ['service', 'operation', 'outcome'], registers }),
    gatewayDuration: new Histogram({ name: 'sts_vend_gateway_call_duration_seconds', help: 'Whole gateway call, checks and upstream answer', labelNames: ['service', 'outcome'], buckets: latencyBuckets, registers }),
    gatewayProxyConnections: new Counter({ name: 'sts_vend_gateway_proxy_connections_total', help: 'Proxy-mode connections by outcome: terminated (an AWS host), tunnelled (allow-listed) or refused', labelNames: ['outcome'], registers }),
    gatewayProxyCerts: new Counter({ name: 'sts_vend_gateway_proxy_certificates_minted_total', help: 'Proxy-mode host certificates minted from the gateway CA', registers }),
  };
}
