/**
 * Which destinations the proxy serves: the AWS hosts of the services the gateway knows (services.ts), including
 * S3's virtual-hosted `<bucket>.s3[.<region>].amazonaws.com`, are terminated and served as gateway calls; a
 * destination the operator's `gateway.proxy.allow` names is tunnelled untouched; everything else is refused.
 * The host only decides whether the proxy serves a connection: where a call goes is still derived from the
 * signature's service and region (services.ts), never from the host.
 */
import { GatewayRefusal } from './aws-errors';
import { REGION, SERVICES } from './services';
import { hostnameOf } from './request-parts';

/** An AWS host the proxy terminates TLS for. */
export interface AwsHost {
  /** The hostname as the agent asked for it (lower-case). */
  host: string;
  /** The signing name of the service it belongs to. */
  service: string;
  /** The region the hostname names, if it names one (`s3.amazonaws.com`, `iam.amazonaws.com` do not). */
  region?: string;
  /** The hostname without an S3 bucket label: the name a bucket is virtual-hosted under. */
  serviceHost: string;
}

/** Hostnames without a region that still belong to a known service. */
const GLOBAL: Record<string, string> = {
  'sts.amazonaws.com': 'sts',
  'iam.amazonaws.com': 'iam',
  'iam.amazonaws.com.cn': 'iam',
  's3.amazonaws.com': 's3',
  's3-external-1.amazonaws.com': 's3',
  // SQS's legacy name in us-east-1, which older SDKs still use.
  'queue.amazonaws.com': 'sqs',
};
const SUFFIX = /\.amazonaws\.com(\.cn)?$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The AWS host a hostname is, or undefined when it is no endpoint of a service the gateway forwards to. */
export function awsHost(hostname: string): AwsHost | undefined {
  const host = hostname.toLowerCase();
  if (host.length > 253 || !SUFFIX.test(host)) return undefined;
  return serviceHost(host, host) ?? s3VirtualHost(host);
}

function serviceHost(host: string, asked: string): AwsHost | undefined {
  const global = GLOBAL[host];
  if (global) return { host: asked, service: global, serviceHost: host };
  const labels = host.replace(SUFFIX, '').split('.');
  // `s3.<region>`, `s3.dualstack.<region>`, the legacy `s3-<region>`, and `<prefix>.<region>` for the rest.
  const last = labels.at(-1) ?? '';
  const legacy = labels.length === 1 && last.startsWith('s3-');
  const region = legacy ? last.slice(3) : last;
  if (!REGION.test(region)) return undefined;
  if (legacy || /^s3(\.dualstack)?$/.test(labels.slice(0, -1).join('.'))) return { host: asked, service: 's3', region, serviceHost: host };
  for (const spec of SERVICES.values()) {
    if (spec.host(region) === host) return { host: asked, service: spec.name, region, serviceHost: host };
  }
  return undefined;
}

/** `<bucket>.<an S3 host>`: the bucket is the first label(s), the rest must be an S3 host. */
function s3VirtualHost(host: string): AwsHost | undefined {
  for (let dot = host.indexOf('.'); dot > 0; dot = host.indexOf('.', dot + 1)) {
    const rest = host.slice(dot + 1);
    const found = serviceHost(rest, host);
    if (found) return found.service === 's3' && BUCKET.test(host.slice(0, dot)) ? found : undefined;
  }
  return undefined;
}

/** A CONNECT target (`host:port`), validated where it enters: a DNS name or IPv4 address and a port. */
export function parseConnectTarget(target: string | undefined): { host: string; port: number } | undefined {
  const m = /^([a-z0-9.-]{1,253}):([0-9]{1,5})$/i.exec(target ?? '');
  if (!m) return undefined;
  const host = m[1]!.toLowerCase();
  const port = Number(m[2]);
  if (port < 1 || port > 65535 || !host.split('.').every((l) => LABEL.test(l))) return undefined;
  return { host, port };
}

/** Whether `gateway.proxy.allow` names this destination: `host`, `*.domain` (any subdomain), with `:port` or 443. */
export function allowListed(allow: readonly string[], host: string, port: number): boolean {
  return allow.some((entry) => {
    const colon = entry.lastIndexOf(':');
    const [name, p] = colon < 0 ? [entry, 443] : [entry.slice(0, colon), Number(entry.slice(colon + 1))];
    if (p !== port) return false;
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) && host.length > name.length - 1 : host === name;
  });
}

/**
 * A proxied call's Host must be the host the tunnel was opened to, and the service its signature names must be
 * that host's (a tunnel to S3 carries no STS call); a region in the hostname must be the signature's region,
 * since that region decides where the call goes.
 */
export function checkProxiedHost(target: AwsHost, hostHeader: string | undefined, service: string, region: string): void {
  const host = hostnameOf(hostHeader ?? '');
  if (host !== target.host) throw new GatewayRefusal('badHost', `the Host header "${host.slice(0, 100)}" is not the host this connection was opened to (${target.host})`);
  if (service !== target.service) throw new GatewayRefusal('badHost', `${target.host} is an endpoint of ${target.service}, but the request is signed for ${service.slice(0, 64)}`);
  if (target.region && target.region !== region) throw new GatewayRefusal('badHost', `${target.host} is in ${target.region}, but the request is signed for ${region}`);
}
