/**
 * The AWS services the gateway forwards to, and where each one lives. The gateway is no open proxy: the
 * upstream URL comes only from this table (a known service and a well-formed region from the signature's
 * credential scope) or from the operator's endpoint overrides in the config, never from a Host, URL or header
 * the client sent.
 */

/** Wire protocols, as the service models name them; they decide how an operation is read and how errors look. */
export type Protocol = 'query' | 'json' | 'rest-xml' | 'rest-json';

export interface ServiceSpec {
  /** The signing name, as in the credential scope (`s3`, `dynamodb`, `logs`). */
  name: string;
  protocol: Protocol;
  /** The IAM action prefix when it differs from the signing name. */
  iamPrefix: string;
  /** The endpoint host for a region; global services ignore the region. */
  host(region: string): string;
  /** Global services are signed for this one region (IAM: us-east-1). */
  signingRegion?: string;
  /** JSON protocol: `1.0` or `1.1`, for the error content type. */
  jsonVersion?: '1.0' | '1.1';
  /** Query services also reachable with a JSON protocol (SQS since 2023): an X-Amz-Target header decides. */
  alsoJson?: boolean;
}

const regional = (prefix: string) => (region: string) => `${prefix}.${region}.${dnsSuffix(region)}`;

function spec(name: string, protocol: Protocol, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name, protocol, iamPrefix: name, host: regional(name), ...extra };
}

export const SERVICES: ReadonlyMap<string, ServiceSpec> = new Map(
  [
    spec('sts', 'query'),
    spec('iam', 'query', { host: (region) => (region.startsWith('cn-') ? 'iam.cn-north-1.amazonaws.com.cn' : 'iam.amazonaws.com'), signingRegion: 'us-east-1' }),
    spec('s3', 'rest-xml'),
    spec('dynamodb', 'json', { jsonVersion: '1.0' }),
    spec('logs', 'json', { jsonVersion: '1.1' }),
    spec('kms', 'json', { jsonVersion: '1.1' }),
    spec('secretsmanager', 'json', { jsonVersion: '1.1' }),
    spec('ssm', 'json', { jsonVersion: '1.1' }),
    spec('events', 'json', { jsonVersion: '1.1' }),
    spec('ecr', 'json', { host: regional('api.ecr'), jsonVersion: '1.1' }),
    spec('sqs', 'query', { alsoJson: true, jsonVersion: '1.0' }),
    spec('sns', 'query'),
    spec('lambda', 'rest-json'),
  ].map((s) => [s.name, s]),
);

/** Commercial, China and GovCloud regions: `us-east-1`, `eu-central-2`, `cn-north-1`, `us-gov-west-1`. */
export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]{4,10}-[1-9]$/;

function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** Operator overrides (config `gateway.endpoints`): per service, or `default` for every service. */
export type EndpointOverrides = Record<string, string>;

export interface Upstream {
  /** Origin only: scheme, host and port. */
  url: URL;
  /** True when an override points somewhere other than AWS (the emulator): S3 then goes path-style. */
  overridden: boolean;
}

/** The URL to forward a call for this service and region to. */
export function upstreamFor(service: ServiceSpec, region: string, overrides: EndpointOverrides): Upstream {
  const override = overrides[service.name] ?? overrides.default;
  if (override) return { url: new URL(override), overridden: true };
  return { url: new URL(`https://${service.host(region)}`), overridden: false };
}

/** S3's upstream: path-style to an override (the emulator), virtual-hosted to AWS when the bucket name allows. */
export function s3Upstream(base: URL, overridden: boolean, rawPath: string, bucket: string, hostBucket: string): { url: URL; path: string } {
  const pathStyle = hostBucket ? `/${encodeURIComponent(hostBucket)}${rawPath === '/' ? '' : rawPath}` : rawPath;
  if (overridden || !bucket || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) return { url: base, path: pathStyle || '/' };
  const url = new URL(base.href);
  url.hostname = `${bucket}.${base.hostname}`;
  const path = hostBucket ? rawPath : rawPath.slice(rawPath.indexOf('/', 1) < 0 ? rawPath.length : rawPath.indexOf('/', 1)) || '/';
  return { url, path };
}
